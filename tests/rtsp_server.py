"""A real RTSP camera for the tests: GStreamer's RTSP server streaming a video file live, H.264 or H.265.

Runs under the system python3 (Debian's python3-gi and gir1.2-gst-rtsp-server-1.0), not the project's venv:
`tests/rtsp_camera.py` starts it as a subprocess. The clip is decoded once into memory and each client gets
its own stream from the first frame (after --lead-in grey frames), paced by the clip's own timestamps (looping with
--loop, else ending).
Both TCP (interleaved) and UDP transports are offered.

It prints `ready PORT` once listening, `client` when a stream starts, `eos` when a stream without --loop
has sent its last frame. SIGUSR1 stalls every stream (no more frames, connections kept open, as a camera
whose encoder hangs); SIGUSR2 resumes."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Iterator

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

ENCODERS = {
    "h264": "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=10 bframes=0 ! rtph264pay name=pay0 pt=96",
    "h265": "x265enc tune=zerolatency speed-preset=ultrafast key-int-max=10 ! rtph265pay name=pay0 pt=96",
}


def decode(path: str, width: int | None, height: int | None) -> tuple[list[tuple[float, bytes]], str]:
    """Every frame of the clip as (seconds from its start, I420 bytes), and caps for them (without a rate). Turned
    as the file's rotation tag says (a phone clip stored sideways), as OpenCV turns it on replay: a camera streams
    upright pictures."""
    size = f",width={width},height={height}" if width and height else ""
    pipeline = Gst.parse_launch(
        f'filesrc location="{path}" ! decodebin ! videoflip video-direction=auto ! videoconvert ! videoscale '
        f"! video/x-raw,format=I420{size} ! appsink name=sink sync=false"
    )
    sink = pipeline.get_by_name("sink")
    pipeline.set_state(Gst.State.PLAYING)
    frames: list[tuple[float, bytes]] = []
    caps = ""
    while True:
        sample = sink.emit("pull-sample")
        if sample is None:
            break
        buffer = sample.get_buffer()
        if not caps:
            shape = sample.get_caps().get_structure(0)
            caps = f"video/x-raw,format=I420,width={shape.get_value('width')},height={shape.get_value('height')}"
        frames.append((buffer.pts / Gst.SECOND, buffer.extract_dup(0, buffer.get_size())))
    pipeline.set_state(Gst.State.NULL)
    if not frames:
        sys.exit(f"rtsp_server: no video decoded from {path}")
    start = frames[0][0]
    return [(t - start, data) for t, data in frames], caps


class Camera:
    def __init__(self, frames: list[tuple[float, bytes]], loop: bool, lead_in: int = 0) -> None:
        self.frames = frames
        self.loop = loop
        self.lead_in = lead_in
        self.flowing = threading.Event()
        self.flowing.set()
        # The clip's length plus one frame's time, so a loop does not show its last frame twice as long or short.
        self.period = frames[-1][0] + (frames[-1][0] / max(len(frames) - 1, 1))

    def configure(self, _factory: GstRtspServer.RTSPMediaFactory, media: GstRtspServer.RTSPMedia) -> None:
        source = media.get_element().get_by_name("src")
        stop = threading.Event()
        media.connect("unprepared", lambda *_: stop.set())
        threading.Thread(target=self.feed, args=(source, stop), daemon=True).start()

    def stream(self) -> Iterator[tuple[float, bytes]]:
        """(seconds from the stream's start, I420 bytes) of each frame a client gets: the grey lead-in, then the
        clip, again and again with --loop."""
        step = self.period / len(self.frames)
        grey = bytes([128]) * len(self.frames[0][1])
        for i in range(self.lead_in):
            yield i * step, grey
        offset = self.lead_in * step
        while True:
            for t, data in self.frames:
                yield offset + t, data
            if not self.loop:
                return
            offset += self.period

    def feed(self, source: Gst.Element, stop: threading.Event) -> None:
        print("client", flush=True)
        started = time.monotonic()
        for t, data in self.stream():
            if not self.flowing.is_set():
                stalled = time.monotonic()
                while not self.flowing.wait(0.1) and not stop.is_set():
                    pass
                started += time.monotonic() - stalled  # the stream goes on where it stopped
            delay = started + t - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            if stop.is_set() or source.emit("push-buffer", Gst.Buffer.new_wrapped(data)) != Gst.FlowReturn.OK:
                return
        source.emit("end-of-stream")
        print("eos", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("clip")
    parser.add_argument("--port", type=int, default=0, help="0: any free port (printed)")
    parser.add_argument("--mount", default="/cam")
    parser.add_argument("--codec", choices=sorted(ENCODERS), default="h264")
    parser.add_argument("--size", help="WIDTHxHEIGHT to scale the clip to")
    parser.add_argument("--loop", action="store_true")
    parser.add_argument(
        "--lead-in", type=int, default=0, help="grey frames each client gets before the clip (a client's start-up)"
    )
    args = parser.parse_args()
    Gst.init(None)
    width, height = map(int, args.size.split("x")) if args.size else (None, None)
    frames, caps = decode(args.clip, width, height)
    camera = Camera(frames, args.loop, args.lead_in)
    factory = GstRtspServer.RTSPMediaFactory()
    rate = round(len(frames) / camera.period * 1000)  # nominal only (x265 needs one); frames keep their own times
    # do-timestamp: each frame is stamped when pushed, so the encoder and payloader see a live camera's clock.
    factory.set_launch(
        f'( appsrc name=src is-live=true do-timestamp=true format=time caps="{caps},framerate={rate}/1000" '
        f"! videoconvert ! {ENCODERS[args.codec]} )"
    )
    factory.set_shared(False)
    factory.set_protocols(GstRtsp.RTSPLowerTrans.TCP | GstRtsp.RTSPLowerTrans.UDP)
    factory.connect("media-configure", camera.configure)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    server.get_mount_points().add_factory(args.mount, factory)
    if server.attach(None) == 0:
        sys.exit(f"rtsp_server: cannot listen on port {args.port}")
    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGUSR1, lambda: camera.flowing.clear() or True)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGUSR2, lambda: camera.flowing.set() or True)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, lambda: loop.quit() or False)
    print("ready", server.get_bound_port(), flush=True)
    loop.run()


if __name__ == "__main__":
    main()
