"""Data contracts shared by the edge and central sides: messages, topics and camera configuration."""
