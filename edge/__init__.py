"""What runs on the camera box: source -> detect -> track -> rules -> redact -> evidence -> outbox -> publish."""
