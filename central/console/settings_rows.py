"""The Settings page's table: every central setting with the value in use, so a folder left to its default reads
as the folder the console and the worker actually use (data_dir/evidence, ...), not as an empty "None"."""

from __future__ import annotations

from typing import Any

from central.settings import CentralSettings

HIDDEN = ("db_url", "console")
"""The database URL may hold a password; the console's own options have a table of their own."""


def _in_use(settings: CentralSettings, name: str, value: Any) -> Any:
    if name == "evidence_dir":
        if settings.object_store is not None:
            return "not used: evidence goes to the object store"
        return value or f"{settings.evidence_path} (default: data_dir/evidence)"
    if name == "checkpoint_dir":
        return value or f"{settings.checkpoint_path} (default: data_dir/checkpoints)"
    if name == "editor":
        editor = settings.editor
        return {
            **value,
            "media_dirs": [str(path) for path in editor.media_paths(settings.data_dir)],
            "cameras_dir": str(editor.cameras_path(settings.data_dir)),
        }
    return value


def settings_rows(settings: CentralSettings) -> list[tuple[str, Any, str]]:
    """(name, value in use, meaning) for each setting the page shows."""
    values = settings.model_dump(mode="json")
    fields = type(settings).model_fields
    return [
        (name, _in_use(settings, name, value), fields[name].description or "")
        for name, value in values.items()
        if name not in HIDDEN
    ]
