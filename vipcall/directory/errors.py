"""Errors of the directory service layer.

Every error renders as ONE line, optionally prefixed with the CSV row and field it is about:
``row 3, field mobile: '123' is not a valid phone number``.

Every error also carries the same message in Finnish (``message_fi``, given as ``fi=`` where
it is raised; the classes that make their own message make their own Finnish too). The CLI
prints the English line; the web API shows the Finnish first, the English beside it.
"""

from __future__ import annotations

from collections.abc import Sequence

from vipcall.presence.forwarding import Refusal


class DirectoryError(Exception):
    """Base class: an expected, user-caused error with a one-line message, in English
    (``message``) and in Finnish (``message_fi``; ``None`` only if nobody wrote one)."""

    def __init__(
        self,
        message: str,
        *,
        fi: str | None = None,
        field: str | None = None,
        row: int | None = None,
    ) -> None:
        self.message = message
        self.message_fi = fi
        self.field = field
        self.row = row
        super().__init__(self.__str__())

    def at_row(self, row: int) -> DirectoryError:
        """Return the same error attributed to a CSV row."""
        self.row = row
        self.args = (self.__str__(),)
        return self

    def __str__(self) -> str:
        prefix = []
        if self.row is not None:
            prefix.append(f"row {self.row}")
        if self.field is not None:
            prefix.append(f"field {self.field}")
        return f"{', '.join(prefix)}: {self.message}" if prefix else self.message


class InvalidField(DirectoryError):
    """A value that does not validate:
    ``InvalidField("mobile", "'123' is not ...", fi="'123' ei ole ...")``."""

    def __init__(
        self, field: str, message: str, *, fi: str | None = None, row: int | None = None
    ) -> None:
        super().__init__(message, fi=fi, field=field, row=row)


class ForwardRefused(InvalidField):
    """A forwarding target the service refuses; ``reason`` says which rule (and which
    prompt the phone plays)."""

    def __init__(self, reason: Refusal, message: str, *, fi: str | None = None) -> None:
        self.reason = reason
        super().__init__("target", message, fi=fi)


class UnknownOrganization(DirectoryError):
    def __init__(self, ref: str | int) -> None:
        self.ref = ref
        super().__init__(f"unknown organisation {ref!r}", fi=f"tuntematon organisaatio {ref!r}")


class DuplicateOrganization(DirectoryError):
    def __init__(self, domain: str) -> None:
        self.domain = domain
        super().__init__(
            f"organisation with domain {domain!r} already exists",
            fi=f"organisaatio, jonka verkkotunnus on {domain!r}, on jo olemassa",
            field="domain",
        )


class UnknownUser(DirectoryError):
    def __init__(self, ref: str | int) -> None:
        self.ref = ref
        super().__init__(f"unknown user {ref!r}", fi=f"tuntematon käyttäjä {ref!r}")


class DuplicateUser(DirectoryError):
    """A user (or one of their numbers) that already exists, in the DB or earlier in a file."""

    def __init__(
        self, field: str, message: str, *, fi: str | None = None, row: int | None = None
    ) -> None:
        super().__init__(message, fi=fi, field=field, row=row)


class CsvImportError(DirectoryError):
    """One or more bad rows in a CSV import; nothing was written.

    ``errors`` holds every problem found; the message is the first one, plus a count.
    """

    def __init__(self, errors: Sequence[DirectoryError]) -> None:
        if not errors:
            raise ValueError("CsvImportError needs at least one error")
        self.errors = list(errors)
        first = self.errors[0]
        more = len(self.errors) - 1
        suffix = f" (and {more} more error{'s' if more > 1 else ''})" if more else ""
        suffix_fi = f" (ja {more} {'muuta virhettä' if more > 1 else 'muu virhe'})" if more else ""
        super().__init__(
            first.message + suffix,
            fi=None if first.message_fi is None else first.message_fi + suffix_fi,
            field=first.field,
            row=first.row,
        )
