"""The data folder given on a command line (`--data-dir`), applied to the settings: the SQLite database, the
evidence and, without a settings file naming another, the checkpoint folder all follow it."""

from __future__ import annotations

from pathlib import Path

from central.settings import CentralSettings


def with_data_dir(settings: CentralSettings, data_dir: str | Path | None) -> CentralSettings:
    """`settings` with `data_dir` as its data_dir; unchanged when it is None. A checkpoint_dir or evidence_dir
    the settings name (or, for checkpoint_dir, the folder beside a settings file) still wins."""
    if data_dir is None:
        return settings
    return settings.model_copy(update={"data_dir": Path(data_dir)})
