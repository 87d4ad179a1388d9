"""Child processes that a foreground command owns: each in its own session (so a terminal's Ctrl-C reaches only
the parent, which then stops them in order), its output copied to a log file line by line, and a callback
per line for the parent to watch."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

LineCallback = Callable[[str], None]
# A bar redrawn with carriage returns (a tool's own progress bar) counts as a line per redraw.
_LINE_END = re.compile(rb"[\r\n]+")


def stop_process(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
    """Send `sig` to a running process, wait up to `timeout`, then kill it; returns its exit code."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


class Child:
    def __init__(self, name: str, argv: list[str], log_path: Path, on_line: LineCallback | None = None) -> None:
        self.name, self.argv, self.log_path = name, argv, Path(log_path)
        self.on_line = on_line or (lambda _line: None)
        self.process: subprocess.Popen | None = None
        self.last_lines: list[str] = []
        self._pump: threading.Thread | None = None

    def start(self, env: dict[str, str] | None = None) -> Child:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        self._pump = threading.Thread(target=self._copy_output, name=f"{self.name}-output", daemon=True)
        self._pump.start()
        return self

    def _copy_output(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        pending = b""
        with self.log_path.open("ab") as log:
            for chunk in iter(lambda: os.read(self.process.stdout.fileno(), 65536), b""):  # type: ignore[union-attr]
                log.write(chunk)
                log.flush()
                *lines, pending = _LINE_END.split(pending + chunk)
                for raw in lines:
                    self._line(raw)
            if pending:
                self._line(pending)

    def _line(self, raw: bytes) -> None:
        line = raw.decode("utf-8", "replace").strip()
        if line:
            self.last_lines = [*self.last_lines[-19:], line]
            self.on_line(line)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def exit_code(self) -> int | None:
        """None while it runs."""
        return None if self.process is None else self.process.poll()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int | None:
        """Send `sig`, wait up to `timeout`, then kill; returns the exit code."""
        if self.process is None:
            return None
        code = stop_process(self.process, sig, timeout)
        if self._pump is not None:
            self._pump.join(5.0)
        return code

    def failure_line(self) -> str:
        """The child's own one-line error if it printed one, else its last line."""
        errors = [line for line in self.last_lines if line.startswith("error:")]
        return (errors or self.last_lines or ["(no output)"])[-1]
