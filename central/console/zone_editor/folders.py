"""Whether a path a camera file names lies inside a folder the editor was given: the one containment test behind
source.uri and every other file a camera file written by the editor may name."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def inside(path: Path, base: Path) -> Path | None:
    """`path` relative to the resolved folder `base`, or None when it resolves (links included) outside it. A
    relative path counts from central's working folder, as the edge's would from its own."""
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError, ValueError):
        return None
    return resolved.relative_to(base) if resolved.is_relative_to(base) else None


def inside_any(path: Path, folders: Iterable[Path]) -> bool:
    """Whether `path` resolves inside one of `folders` (each resolved as it is now)."""
    for folder in folders:
        try:
            base = folder.resolve()
        except (OSError, RuntimeError, ValueError):
            continue
        if inside(path, base) is not None:
            return True
    return False
