"""The central side: ingest -> store -> review -> ledger, and the reviewer console."""
