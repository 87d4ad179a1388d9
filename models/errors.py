"""The root of curbwatch's errors (httpx's pattern: one base, subclasses grouped by kind), and pydantic validation
errors turned into one plain line per problem: key path, bad value, what is allowed."""

from __future__ import annotations

import difflib
import re
import types
import typing
from typing import Any, ClassVar, Union

from pydantic import BaseModel, ValidationError

_SHOULD = re.compile(r"^(Input|String|List|Value|Dictionary|Tuple|Object) should")


class CurbwatchError(Exception):
    """Every error curbwatch raises on purpose. Its message is one line fit to show a person; the command line
    prints `lines()` on stderr and exits with `exit_code` (common/cli_errors.py), so commands need not catch it.
    Subclasses keep a builtin base (ValueError, RuntimeError...) where callers catch that."""

    exit_code: ClassVar[int] = 1

    def lines(self) -> list[str]:
        return [f"error: {self}"]


class InputError(CurbwatchError):
    """What was given cannot be used as it is (a file, a key, an argument, a message); fixing it helps, retrying
    does not."""


class UnavailableError(CurbwatchError):
    """Something the request needs cannot serve it (busy, not migrated, unreachable, a part that stopped); the
    request itself may be fine."""


class RefusedError(CurbwatchError):
    """A request the rules refuse (review and ledger rules, roles, sign-in), with a message the user can act on."""


class ConfigError(InputError):
    """A configuration that cannot be used, with every problem found in it: one line per problem, exit 2."""

    exit_code = 2

    def __init__(self, origin: str, problems: list[str]) -> None:
        self.origin = origin
        self.problems = problems
        super().__init__(f"{origin}: " + "; ".join(problems))

    def lines(self) -> list[str]:
        return [f"{self.origin}: {problem}" for problem in self.problems]


def format_loc(loc: tuple[int | str, ...]) -> str:
    """('zones', 0, 'polygon', 1, 0) -> 'zones[0].polygon[1][0]'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType, list, tuple, typing.Annotated):
        return [m for arg in typing.get_args(annotation) for m in models_in(arg)]
    return []


def _model_at(root: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model class that owns the keys at `loc`, following fields and list items."""
    current: type[BaseModel] | None = root
    for part in loc:
        if current is None:
            return None
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part)
        if field is None:
            aliases = {f.alias: f for f in current.model_fields.values() if f.alias}
            field = aliases.get(part)
        if field is None:
            return None
        models = models_in(field.annotation)
        current = models[0] if models else None
    return current


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _describe(error: Any, root: type[BaseModel] | None) -> str:
    loc = tuple(error["loc"])
    path = format_loc(loc)
    kind = error["type"]
    value = error.get("input")
    if kind == "extra_forbidden":
        owner = _model_at(root, loc[:-1]) if root else None
        hint = ""
        if owner is not None:
            names = sorted(f.alias or name for name, f in owner.model_fields.items())
            close = difflib.get_close_matches(str(loc[-1]), names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            hint += f"; allowed keys here: {', '.join(names)}"
        return f"{path}: unknown key{hint}"
    if kind == "missing":
        return f"{path}: required key is missing"
    message = _SHOULD.sub("must", error["msg"].removeprefix("Value error, "), count=1)
    if kind == "literal_error":
        return f"{path}: {_show(value)} is not allowed; allowed: {error['ctx']['expected']}"
    if kind in ("too_short", "too_long") and isinstance(value, (list, tuple, dict)):
        bound = error["ctx"].get("min_length" if kind == "too_short" else "max_length")
        need = "at least" if kind == "too_short" else "at most"
        return f"{path}: has {len(value)} items, needs {need} {bound}"
    if not loc:  # a check across fields: the value is the whole input, which says nothing more
        return f"{path}: {message}"
    return f"{path}: {message} (got {_show(value)})"


def format_validation_error(exc: ValidationError, root: type[BaseModel] | None = None) -> list[str]:
    """One line per problem, in the order pydantic found them."""
    return [_describe(error, root) for error in exc.errors()]
