"""The configuration reference in README.md, generated from the pydantic models so it cannot drift."""

from __future__ import annotations

import json
import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from models.config import CameraConfig
from models.errors import models_in


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in args)
    if origin is list:
        return f"list of {_type_name(args[0])}"
    if origin is tuple:
        return "[" + ", ".join(_type_name(a) for a in args) + "]"
    if annotation is type(None):
        return "null"
    return getattr(annotation, "__name__", str(annotation))


def _constraints(field: Any) -> str:
    parts = []
    for item in field.metadata:
        for attr, sign in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"), ("min_length", "min length")):
            value = getattr(item, attr, None)
            if value is not None:
                parts.append(f"{sign} {value}")
    return ", ".join(parts)


def _rows(model: type[BaseModel], prefix: str, note: str = "") -> list[str]:
    rows = []
    for name, field in model.model_fields.items():
        key = f"{prefix}{field.alias or name}"
        nested = models_in(field.annotation)
        is_list = typing.get_origin(field.annotation) is list
        if nested and not is_list:
            for variant in nested:
                tag = f"({variant.__name__}) " if len(nested) > 1 else note
                rows.extend(_rows(variant, f"{key}.", tag))
            continue
        if field.is_required():
            default = "required"
        elif field.default is PydanticUndefined:
            default = ""
        else:
            default = f"`{json.dumps(field.default)}`"
        description = " ".join(filter(None, [note.strip(), field.description or "", _constraints(field)]))
        rows.append(f"| `{key}` | {_type_name(field.annotation)} | {default} | {description} |")
        if nested and is_list:
            rows.extend(_rows(nested[0], f"{key}[].", note))
    return rows


def config_reference() -> str:
    """A Markdown table of every camera configuration key."""
    head = ["| key | type | default | meaning |", "|---|---|---|---|"]
    return "\n".join(head + _rows(CameraConfig, "")) + "\n"
