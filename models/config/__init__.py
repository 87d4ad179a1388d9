"""Camera configuration: one pydantic model per concept, assembled in `camera.CameraConfig`."""

from models.config.camera import CameraConfig, load_camera_config

__all__ = ["CameraConfig", "load_camera_config"]
