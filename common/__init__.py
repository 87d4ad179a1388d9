"""What the edge and central both use and that is not a message contract: the MQTT client factory and the
command-line error helpers. It imports `models` only, so `edge` and `central` can share it without importing
each other or the `curbwatch` command line (layers: models <- common <- edge, central <- curbwatch)."""
