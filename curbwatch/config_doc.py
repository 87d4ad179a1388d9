"""Keep docs/config.md's generated table in step: `python -m curbwatch.config_doc` rewrites it."""

from __future__ import annotations

import re
from pathlib import Path

from curbwatch.reference import config_reference

CONFIG_DOC = Path(__file__).resolve().parent.parent / "docs" / "config.md"
_BLOCK = re.compile(r"(<!-- config-reference -->\n).*?(<!-- /config-reference -->)", re.S)


def refresh(path: Path = CONFIG_DOC) -> bool:
    """Rewrite the table in place; True when it changed."""
    text = path.read_text()
    updated = _BLOCK.sub(lambda m: m.group(1) + config_reference() + m.group(2), text)
    path.write_text(updated)
    return updated != text


if __name__ == "__main__":
    refresh()
