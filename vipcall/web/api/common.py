"""Shapes the admin and auth areas share: row ids in paths, text without NUL characters
(PostgreSQL's text cannot hold one: refused as bad input, not a server error), and
"left out" versus "null" in a PATCH body."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path
from pydantic import AfterValidator, BaseModel

from vipcall.directory.voicemail import UNSET, _Unset
from vipcall.web.problems import Problem

#: A row id in a path: a positive PostgreSQL ``integer``.
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]


def given(body: BaseModel, name: str, *, nullable: bool = False) -> Any | _Unset:
    """The PATCH field ``name``: :data:`UNSET` when left out; ``null`` is "clear" for a
    ``nullable`` field and refused (422 naming it) for one that must have a value."""
    if name not in body.model_fields_set:
        return UNSET
    value = getattr(body, name)
    if value is None and not nullable:
        raise Problem(422, f"{name}: must not be null", field=name)
    return value
