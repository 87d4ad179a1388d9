"""What the zone editor may open: video files under the configured media folders and the configured streams,
each named by a key that the browser sends back. No key ever resolves to a path outside those folders."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

from central.console.zone_editor.folders import inside
from central.editor_settings import EditorStream
from models.errors import InputError

VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".mpg", ".mpeg", ".ts"})
MAX_FILES_PER_FOLDER = 500
MAX_KEY_LENGTH = 1000


class UnknownSource(InputError, LookupError):
    """A key that names no file under the media folders and no configured stream."""


@dataclass(frozen=True)
class Source:
    key: str
    """'file:FOLDER_INDEX:RELATIVE/PATH' or 'stream:NAME'."""
    label: str
    uri: str
    """What a camera file's source.uri gets and the replay opens: FOLDER/RELATIVE/PATH as configured, or the URL."""


def _inside(path: Path, base: Path) -> Path | None:
    """`path` relative to the resolved folder `base`, or None when it resolves (links included) outside it or is
    not a video file."""
    relative = inside(path, base)
    if relative is None or relative.suffix.lower() not in VIDEO_SUFFIXES or not (base / relative).is_file():
        return None
    return relative


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


class SourceCatalogue:
    def __init__(self, media_dirs: list[Path], streams: list[EditorStream]) -> None:
        self.media_dirs = media_dirs
        self.streams = {stream.name: stream for stream in streams}

    def _file(self, index: int, relative: Path) -> Source:
        uri = (self.media_dirs[index] / relative).as_posix()
        return Source(f"file:{index}:{relative.as_posix()}", uri, uri)

    def _stream(self, stream: EditorStream) -> Source:
        return Source(f"stream:{stream.name}", f"{stream.name} (stream)", stream.url.get_secret_value())

    def missing_folders(self) -> list[Path]:
        return [folder for folder in self.media_dirs if not folder.is_dir()]

    def sources(self) -> list[Source]:
        found = []
        for index, folder in enumerate(self.media_dirs):
            if not folder.is_dir():
                continue
            base = folder.resolve()
            visible = (p for p in sorted(base.rglob("*")) if not _hidden(p.relative_to(base)))
            videos = (relative for relative in (_inside(p, base) for p in visible) if relative is not None)
            found += [self._file(index, relative) for relative in itertools.islice(videos, MAX_FILES_PER_FOLDER)]
        return found + [self._stream(stream) for stream in self.streams.values()]

    def resolve(self, key: str) -> Source:
        """The source a key names; UnknownSource for anything else (other folders, '..', links out, non-video)."""
        kind, _, rest = key.partition(":")
        if kind == "stream" and rest in self.streams:
            return self._stream(self.streams[rest])
        if kind == "file" and len(key) <= MAX_KEY_LENGTH and "\x00" not in key:
            index, _, relative = rest.partition(":")
            if index.isdigit() and int(index) < len(self.media_dirs) and relative and not Path(relative).is_absolute():
                folder = self.media_dirs[int(index)]
                inside = _inside(folder / relative, folder.resolve()) if folder.is_dir() else None
                if inside is not None:
                    return self._file(int(index), inside)
        raise UnknownSource("no such video file under the media folders and no such stream")

    def key_for_uri(self, uri: str) -> str | None:
        """The key of the known source a camera file's source.uri names, if any."""
        for stream in self.streams.values():
            if stream.url.get_secret_value() == uri:
                return self._stream(stream).key
        for index, folder in enumerate(self.media_dirs):
            if folder.is_dir():
                inside = _inside(Path(uri), folder.resolve())
                if inside is not None:
                    return self._file(index, inside).key
        return None
