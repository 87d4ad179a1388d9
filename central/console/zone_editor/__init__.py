"""The zone editor (admin role): draw a camera's zones on a redacted frame of a known source, save a camera
file validated by the same models as the edge, and test the draft on the first seconds of the source."""
