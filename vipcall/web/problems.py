"""Errors as RFC 9457 problem details (``application/problem+json``).

Every error the API returns has this one shape; a field error names the field, so the
home page can put the message beside the right input. A service-layer error says it in
Finnish first, the English in parentheses (``detail``), and each alone (``detail_fi``,
``detail_en``).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from vipcall.directory.errors import (
    CsvImportError,
    DirectoryError,
    ForwardRefused,
    UnknownOrganization,
    UnknownUser,
)
from vipcall.prompts import prompt_text

MEDIA_TYPE = "application/problem+json"

_TITLES = {
    400: "Bad request",
    401: "Not logged in",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many attempts",
}


class Problem(Exception):
    """Raise anywhere in a handler: ``Problem(403, "only your own organisation")``."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        field: str | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.field = field
        self.title = title or _TITLES.get(status, "Error")
        self.headers = headers


def problem_response(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    field: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if field is not None:
        body["field"] = field
    if errors:
        body["errors"] = errors
    if extra:
        body.update({k: v for k, v in extra.items() if k not in body})
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _not_found(exc: DirectoryError) -> bool:
    return isinstance(exc, UnknownUser | UnknownOrganization) or type(exc).__name__.startswith(
        "Unknown"
    )


def _field_of(loc: tuple[Any, ...] | list[Any]) -> str:
    """``("body", "target")`` -> ``target``; ``("query", "days")`` -> ``days``."""
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or "body"


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return problem_response(
        exc.status, exc.detail, title=exc.title, field=exc.field, headers=exc.headers
    )


def error_texts(exc: DirectoryError) -> dict[str, str]:
    """``detail`` (Finnish first, the English in parentheses), ``detail_fi`` and ``detail_en``
    of a service-layer error; English only if it has no Finnish text. A message written in
    both languages already (``"en (fi)"`` or ``"fi (en)"``) is not said twice."""
    en, fi = exc.message, exc.message_fi
    if fi is None:
        return {"detail": en, "detail_en": en}
    if en.endswith(f" ({fi})"):
        en = en.removesuffix(f" ({fi})")
    elif en.startswith(f"{fi} (") and en.endswith(")"):
        en = en[len(fi) + 2 : -1]
    return {"detail": f"{fi} ({en})", "detail_fi": fi, "detail_en": en}


def error_entry(exc: DirectoryError) -> dict[str, Any]:
    """One row's error of a CSV import, for ``errors``: row, field and the texts."""
    return {"row": exc.row, "field": exc.field, **error_texts(exc)}


async def _on_directory_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DirectoryError)
    status = 404 if _not_found(exc) else 422
    if isinstance(exc, ForwardRefused):
        # Why, in words (Finnish first, as the phone says it), and the reason's code.
        fi = prompt_text(f"forward-refused-{exc.reason.value}", "fi")
        return problem_response(
            status,
            f"{fi} ({exc.message})",
            field=exc.field,
            extra={
                "reason": exc.reason.value,
                "reason_fi": fi,
                "reason_en": exc.message,
                "detail_fi": fi,
                "detail_en": exc.message,
            },
        )
    texts = error_texts(exc)
    errors = [error_entry(e) for e in exc.errors] if isinstance(exc, CsvImportError) else None
    return problem_response(
        status, texts.pop("detail"), field=exc.field, errors=errors, extra=texts
    )


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": _field_of(e.get("loc", ())), "detail": str(e.get("msg", "invalid"))}
        for e in exc.errors()
    ]
    first = errors[0] if errors else {"field": "body", "detail": "invalid"}
    return problem_response(
        422, f"{first['field']}: {first['detail']}", field=first["field"], errors=errors
    )


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers) if exc.headers else None
    return problem_response(exc.status_code, str(exc.detail), headers=headers)


#: PostgreSQL's answers to text it cannot store (a NUL character, an invalid byte).
_UNSTORABLE_TEXT = frozenset({"22021", "22P05"})


async def _on_database_error(request: Request, exc: Exception) -> JSONResponse:
    """Text the database cannot hold (``\u0000`` in any string) is bad input, not a server
    error; any other database error stays one."""
    assert isinstance(exc, DBAPIError)
    if getattr(exc.orig, "pgcode", None) in _UNSTORABLE_TEXT:
        return problem_response(
            422, "text must not contain NUL characters (tekstissä on kielletty merkki)"
        )
    raise exc


def install(app: FastAPI) -> None:
    """Route every error the API can raise to a problem+json answer."""
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(DirectoryError, _on_directory_error)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(DBAPIError, _on_database_error)
