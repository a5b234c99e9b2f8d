"""Every service-layer error carries a Finnish text beside the English one.

Checked on the sources: every call in ``vipcall/directory`` that makes a
:class:`DirectoryError` (raised, or collected for a CSV import) passes ``fi=``, unless its
class makes its own message, and then the class passes ``fi=`` itself. A new error without
its Finnish fails here.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

import vipcall.directory
from vipcall.directory import errors
from vipcall.directory.csv_import import parse_users_csv
from vipcall.directory.errors import CsvImportError, DirectoryError, InvalidField
from vipcall.directory.validation import phone

SOURCES = Path(vipcall.directory.__file__).parent


def _error_classes() -> dict[str, type[DirectoryError]]:
    """Every DirectoryError class defined in vipcall/directory, by name."""
    for path in sorted(SOURCES.glob("*.py")):
        importlib.import_module(f"vipcall.directory.{path.stem}")
    found: dict[str, type[DirectoryError]] = {}
    todo: list[type[DirectoryError]] = [DirectoryError]
    while todo:
        cls = todo.pop()
        if cls.__module__.startswith("vipcall.directory."):
            found[cls.__name__] = cls
        todo.extend(cls.__subclasses__())
    return found


CLASSES = _error_classes()


def _takes_fi(cls: type[DirectoryError]) -> bool:
    return "fi" in inspect.signature(cls.__init__).parameters


def _called_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _gives_fi(call: ast.Call) -> bool:
    """``fi=`` passed, and not as a literal None."""
    return any(
        kw.arg == "fi" and not (isinstance(kw.value, ast.Constant) and kw.value.value is None)
        for kw in call.keywords
    )


def _calls() -> list[tuple[str, int, str, bool]]:
    """(file, line, class name, gives fi) of each call of an error class that takes ``fi``."""
    found = []
    for path in sorted(SOURCES.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            name = _called_name(node)
            if name in CLASSES and _takes_fi(CLASSES[name]):
                found.append((path.name, node.lineno, name, _gives_fi(node)))
    return found


def test_the_error_classes_are_found() -> None:
    assert {"DirectoryError", "InvalidField", "ForwardRefused", "UnknownUser"} <= set(CLASSES)
    assert {"UnknownGroup", "UnknownContact", "NotAMember", "UnknownSoftphone"} <= set(CLASSES)


def test_every_error_made_in_the_directory_passes_a_finnish_text() -> None:
    calls = _calls()
    assert len(calls) >= 80, "the walk found the raise sites"
    missing = [f"{file}:{line} {name}(...)" for file, line, name, fi in calls if not fi]
    assert missing == [], "give these a Finnish text (fi=...)"


@pytest.mark.parametrize("name", sorted(n for n, c in CLASSES.items() if not _takes_fi(c)))
def test_an_error_class_that_makes_its_own_message_makes_the_finnish_too(name: str) -> None:
    cls = CLASSES[name]
    tree = ast.parse(inspect.getsource(cls))
    supers = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "__init__"
    ]
    assert supers, f"{name} calls its base class"
    assert all(_gives_fi(call) for call in supers), f"{name}: super().__init__(..., fi=...)"


def test_a_message_keeps_its_english_line_and_carries_the_finnish() -> None:
    with pytest.raises(InvalidField) as caught:
        phone("mobile", "123")
    assert str(caught.value) == "field mobile: '123' is not a valid phone number"
    assert caught.value.message_fi == "'123' ei ole kelvollinen puhelinnumero"
    unknown = errors.UnknownUser("fi0401234567@x.fi")
    assert str(unknown) == "unknown user 'fi0401234567@x.fi'"
    assert unknown.message_fi == "tuntematon käyttäjä 'fi0401234567@x.fi'"


def test_a_csv_import_error_says_the_count_in_finnish_too() -> None:
    text = "display_name,mobile\nA,123\nB,\nC,040 200 0001\n"
    with pytest.raises(CsvImportError) as caught:
        parse_users_csv(text)
    exc = caught.value
    assert str(exc) == "row 2, field mobile: '123' is not a valid phone number (and 1 more error)"
    assert exc.message_fi == "'123' ei ole kelvollinen puhelinnumero (ja 1 muu virhe)"
    assert all(e.message_fi for e in exc.errors)
