"""Import users from CSV, all or nothing.

Format
------
UTF-8 (a BOM is fine), one header line, then one user per line::

    display_name,mobile,landline,email
    Maija Meikäläinen,040 123 4567,09 1234 5678,maija@example.fi
    Matti Virtanen,+358 40 1234568,,

* Delimiter: ``,`` or ``;`` (whatever the header line uses; Excel in Finnish locale writes ``;``).
* Columns: ``display_name`` and ``mobile`` are required; ``landline`` and ``email`` are
  optional (the column may be missing or the cell empty). Column names are case-insensitive;
  unknown columns are an error. Quoting follows the usual CSV rules.
* Rows are numbered like a spreadsheet: the header is row 1, the first user is row 2.
  Blank lines are skipped (but still counted).
* Every row is validated before anything is written; numbers must not repeat within the file
  nor belong to an existing user or service number. Any problem -> :class:`CsvImportError`
  (``row 3, field mobile: '123' is not a valid phone number``) and nothing is written.
  The caller runs the import inside one transaction (``vipcall.db.engine.transaction``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from vipcall.db.models import Organization, User
from vipcall.directory.errors import (
    CsvImportError,
    DirectoryError,
    DuplicateUser,
    InvalidField,
)
from vipcall.directory.organizations import get_organization
from vipcall.directory.users import UserFields, new_user, number_owners, validate_user_fields

REQUIRED_COLUMNS = ("display_name", "mobile")
OPTIONAL_COLUMNS = ("landline", "email")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
MAX_ROWS = 100_000


@dataclass(frozen=True, slots=True)
class CsvUserRow:
    row: int
    fields: UserFields


def _delimiter(header: str) -> str:
    return ";" if header.count(";") > header.count(",") else ","


def parse_users_csv(text: str) -> list[CsvUserRow]:
    """Parse and validate a users CSV (see module docstring). No database access.

    Raises :class:`CsvImportError` carrying every row error found.
    """
    text = text.removeprefix("\ufeff")
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise CsvImportError(
            [InvalidField("header", "the file is empty", fi="tiedosto on tyhjä", row=1)]
        )
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(lines[first]))
    errors: list[DirectoryError] = []
    rows: list[CsvUserRow] = []
    header: list[str] | None = None
    index: dict[str, int] = {}
    try:
        for row_no, record in enumerate(reader, start=1):
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                header = [cell.strip().lower() for cell in record]
                index = _check_header(header, row_no)
                continue
            if len(rows) + len(errors) >= MAX_ROWS:
                raise CsvImportError(
                    [
                        InvalidField(
                            "file",
                            f"more than {MAX_ROWS} rows",
                            fi=f"enemmän kuin {MAX_ROWS} riviä",
                            row=row_no,
                        )
                    ]
                )
            if len(record) != len(header):
                errors.append(
                    InvalidField(
                        "columns",
                        f"expected {len(header)} columns, found {len(record)}",
                        fi=f"sarakkeita pitäisi olla {len(header)}, mutta niitä on {len(record)}",
                        row=row_no,
                    )
                )
                continue

            cell = _cells(record, index)

            try:
                fields = validate_user_fields(
                    cell("display_name") or "",
                    cell("mobile") or "",
                    cell("landline"),
                    cell("email"),
                )
            except DirectoryError as exc:
                errors.append(exc.at_row(row_no))
                continue
            rows.append(CsvUserRow(row_no, fields))
    except csv.Error as exc:
        errors.append(
            InvalidField(
                "csv", f"malformed CSV: {exc}", fi=f"virheellinen CSV: {exc}", row=reader.line_num
            )
        )
    if header is None:
        errors.append(
            InvalidField(
                "header", "the file has no header line", fi="tiedostossa ei ole otsikkoriviä", row=1
            )
        )
    errors.extend(_duplicates_within(rows))
    if errors:
        errors.sort(key=lambda e: e.row or 0)
        raise CsvImportError(errors)
    return rows


def _cells(record: list[str], index: dict[str, int]) -> Callable[[str], str | None]:
    def cell(column: str) -> str | None:
        i = index.get(column)
        return record[i].strip() if i is not None else None

    return cell


def _check_header(header: list[str], row_no: int) -> dict[str, int]:
    unknown = [c for c in header if c not in COLUMNS]
    if unknown:
        raise CsvImportError(
            [
                InvalidField(
                    "header",
                    f"unknown column {unknown[0]!r} (expected {','.join(COLUMNS)})",
                    fi=f"tuntematon sarake {unknown[0]!r} (sallitut: {','.join(COLUMNS)})",
                    row=row_no,
                )
            ]
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise CsvImportError(
            [
                InvalidField(
                    "header",
                    f"missing column {missing[0]!r}",
                    fi=f"sarake {missing[0]!r} puuttuu",
                    row=row_no,
                )
            ]
        )
    repeated = [c for c in header if header.count(c) > 1]
    if repeated:
        raise CsvImportError(
            [
                InvalidField(
                    "header",
                    f"column {repeated[0]!r} appears twice",
                    fi=f"sarake {repeated[0]!r} on kahdesti",
                    row=row_no,
                )
            ]
        )
    return {name: i for i, name in enumerate(header)}


def _duplicates_within(rows: Sequence[CsvUserRow]) -> list[DirectoryError]:
    seen: dict[str, int] = {}
    errors: list[DirectoryError] = []
    for item in rows:
        for field, number in (("mobile", item.fields.mobile), ("landline", item.fields.landline)):
            if number is None:
                continue
            if number in seen:
                errors.append(
                    DuplicateUser(
                        field,
                        f"{number} is already on row {seen[number]}",
                        fi=f"{number} on jo rivillä {seen[number]}",
                        row=item.row,
                    )
                )
            else:
                seen[number] = item.row
    return errors


async def import_users_csv(
    session: AsyncSession,
    source: str | Path,
    organization: Organization | str | int,
) -> list[User]:
    """Import users into ``organization`` from a CSV file path or CSV text.

    A ``str`` that contains a newline is CSV text; otherwise it is a path. All rows are
    validated (fields, duplicates in the file, numbers already in the database) before any
    row is added; then all users are flushed at once. Run it in one transaction:
    on any error nothing is written. Returns the created users.
    """
    org = await get_organization(session, organization)
    if isinstance(source, Path) or "\n" not in source:
        try:
            text = Path(source).read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise InvalidField(
                "file",
                f"cannot read {str(source)!r}: {exc.strerror}",
                fi=f"tiedostoa {str(source)!r} ei voi lukea: {exc.strerror}",
            ) from None
        except UnicodeDecodeError:
            raise InvalidField(
                "file",
                f"{str(source)!r} is not UTF-8 text",
                fi=f"{str(source)!r} ei ole UTF-8-tekstiä",
            ) from None
    else:
        text = source
    rows = parse_users_csv(text)
    wanted = {n for item in rows for n in item.fields.numbers}
    taken = await number_owners(session, wanted)
    errors: list[DirectoryError] = []
    for item in rows:
        for field, number in (("mobile", item.fields.mobile), ("landline", item.fields.landline)):
            if number is not None and number in taken:
                errors.append(
                    DuplicateUser(
                        field,
                        f"{number} already belongs to {taken[number]}",
                        fi=f"{number} kuuluu jo {taken[number].fi}",
                        row=item.row,
                    )
                )
    if errors:
        raise CsvImportError(errors)
    users = [new_user(org, item.fields) for item in rows]
    session.add_all(users)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise CsvImportError(
            [
                DuplicateUser(
                    "mobile",
                    "a user in the file already exists (concurrent change)",
                    fi="tiedoston käyttäjä on jo olemassa (samanaikainen muutos)",
                )
            ]
        ) from exc
    return users
