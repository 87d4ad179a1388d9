"""Jinja environments for the self-contained pages central writes out (the transparency report, a subject's
record): templates read from the package that owns them, autoescaped."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape


def package_templates(folder: Path) -> Environment:
    loader = FileSystemLoader(str(folder))
    return Environment(loader=loader, autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
