"""Running a YOLO model on one frame: the model file, its runtime, and the letterbox and decoding around it.

Two implementations of one `DetectorBackend` interface: `native` runs the model's own runtime (LiteRT,
OpenVINO, ONNX Runtime) without torch, so a camera box installs in a fraction of the space; `ultralytics`
runs `.pt` weights and architecture-only `.yaml` files through Ultralytics (the full install only)."""
