"""The organisation admin's users (pääkäyttäjä: käyttäjät): list and search, create, change,
delete, set a password, import a CSV file. Only the admin's own organisation: another
organisation's user id answers 404, like an id that does not exist."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from vipcall.db.models import User
from vipcall.directory import accounts, passwords
from vipcall.directory.contacts import search_directory
from vipcall.directory.csv_import import import_users_csv
from vipcall.directory.errors import CsvImportError
from vipcall.directory.users import create_user, list_users
from vipcall.web import limits
from vipcall.web.api.common import RowId, Text, given
from vipcall.web.deps import Admin, Db, Now, client_addr
from vipcall.web.problems import Problem, error_entry, problem_response

router = APIRouter(prefix="/api/v1/admin/users", tags=["admin"])

#: The largest CSV file accepted (bytes).
MAX_CSV_BYTES = 5_000_000


class AdminUserOut(BaseModel):
    id: int
    username: str
    display_name: str
    mobile: str
    landline: str | None
    email: str | None
    is_admin: bool
    has_password: bool


def user_out(u: User) -> AdminUserOut:
    return AdminUserOut(
        id=u.id,
        username=u.username,
        display_name=u.display_name,
        mobile=u.mobile_number,
        landline=u.landline_number,
        email=u.email,
        is_admin=u.is_admin,
        has_password=u.password_hash is not None,
    )


class UserIn(BaseModel):
    display_name: Text = Field(max_length=200, examples=["Maija Meikäläinen"])
    mobile: Text = Field(max_length=40, examples=["040 123 4567"])
    landline: Text | None = Field(default=None, max_length=40)
    email: Text | None = Field(default=None, max_length=320)
    is_admin: bool = False
    password: Text | None = Field(default=None, max_length=1024)


class UserPatch(BaseModel):
    display_name: Text | None = Field(default=None, max_length=200)
    email: Text | None = Field(default=None, max_length=320)
    landline: Text | None = Field(default=None, max_length=40)
    is_admin: bool | None = None


class PasswordIn(BaseModel):
    password: Text = Field(min_length=1, max_length=1024)


class ImportOut(BaseModel):
    created: list[AdminUserOut]


@router.get("", response_model=list[AdminUserOut])
async def users(admin: Admin, s: Db, q: Text | None = None) -> list[AdminUserOut]:
    """The organisation's users; ``q``: part of a name or a number."""
    if q is not None and q.strip():
        found = await search_directory(s, admin.organization_id, q, limit=200)
    else:
        found = await list_users(s, admin.organization_id)
    return [user_out(u) for u in found]


@router.post("", status_code=201, response_model=AdminUserOut)
async def create(body: UserIn, admin: Admin, s: Db) -> AdminUserOut:
    user = await create_user(
        s,
        organization=admin.organization_id,
        display_name=body.display_name,
        mobile=body.mobile,
        landline=body.landline,
        email=body.email,
        is_admin=body.is_admin,
        password=body.password or None,
    )
    return user_out(user)


@router.get("/{user_id}", response_model=AdminUserOut)
async def one(user_id: RowId, admin: Admin, s: Db) -> AdminUserOut:
    return user_out(await accounts.org_user(s, admin.organization_id, user_id))


@router.patch("/{user_id}", response_model=AdminUserOut)
async def change(user_id: RowId, body: UserPatch, admin: Admin, s: Db) -> AdminUserOut:
    user = await accounts.org_user(s, admin.organization_id, user_id)
    await accounts.update_user(
        s,
        user,
        display_name=given(body, "display_name"),
        email=given(body, "email", nullable=True),
        landline=given(body, "landline", nullable=True),
        is_admin=given(body, "is_admin"),
        acting_user_id=admin.user_id,
    )
    return user_out(user)


@router.delete("/{user_id}", status_code=204)
async def delete(user_id: RowId, admin: Admin, s: Db) -> Response:
    user = await accounts.org_user(s, admin.organization_id, user_id)
    await accounts.delete_user(s, user, acting_user_id=admin.user_id)
    return Response(status_code=204)


@router.post("/{user_id}/password", status_code=204)
async def set_password(
    user_id: RowId, body: PasswordIn, request: Request, admin: Admin, s: Db, now: Now
) -> Response:
    """Set the user's password (the user's web sessions end)."""
    user = await accounts.org_user(s, admin.organization_id, user_id)
    await passwords.set_password(s, user, body.password)
    await limits.record(
        s,
        "password_set_by_admin",
        username=user.username,
        user_id=user.id,
        client_addr=client_addr(request),
        now=now,
    )
    return Response(status_code=204)


async def _import(s: AsyncSession, text: str, organization_id: int) -> list[User]:
    # CSV text always has a line break: a single line must never be taken for a file path.
    source = text if "\n" in text else text + "\n"
    async with s.begin_nested():  # a refused file leaves the request's transaction usable
        return await import_users_csv(s, source, organization_id)


@router.post(
    "/import",
    status_code=201,
    response_model=ImportOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": "display_name,mobile,landline,email\n"
                    "Maija Meikäläinen,040 123 4567,,maija@example.fi\n",
                }
            },
        }
    },
)
async def import_csv(request: Request, admin: Admin, s: Db) -> ImportOut | Response:
    """Import users from CSV (``display_name,mobile,landline,email``; ``,`` or ``;``), all
    or nothing: any bad row -> 422 listing every row's error, and no user is created."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ("text/csv", "text/plain"):
        raise Problem(415, "send the file as text/csv (lähetä CSV-tiedosto)")
    raw = await request.body()
    if len(raw) > MAX_CSV_BYTES:
        raise Problem(413, f"the file is larger than {MAX_CSV_BYTES // 1_000_000} MB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Problem(
            422, "the file is not UTF-8 text (tiedosto ei ole UTF-8)", field="file"
        ) from None
    if "\x00" in text:
        raise Problem(422, "the file contains NUL characters", field="file")
    try:
        created = await _import(s, text, admin.organization_id)
    except CsvImportError as exc:
        return problem_response(
            422,
            f"nothing imported (mitään ei tuotu): {exc}",
            field=exc.field,
            errors=[error_entry(e) for e in exc.errors],
        )
    return ImportOut(created=[user_out(u) for u in created])
