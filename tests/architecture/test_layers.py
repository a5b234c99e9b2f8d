"""The shape of the code, checked: no import circles, no upward imports, pure rules free of
I/O. Read from the source with ``ast`` (every import counts, also those under
``TYPE_CHECKING`` or inside functions), so a break fails here before anyone runs a call.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "vipcall"

#: Layers from the bottom up; a module may import its own layer and the ones below.
LAYERS: list[tuple[str, ...]] = [
    # pure: the service guide's rules and vocabulary, numbers, settings
    (
        "vipcall.numbers",
        "vipcall.presence",
        "vipcall.routing",
        "vipcall.voicemail.naming",
        "vipcall.voicemail.limits",
        "vipcall.voicemail.greeting",
        "vipcall.voicemail.menu",
        "vipcall.notices.rules",
        "vipcall.absence.rules",
        "vipcall.servicenumbers.rules",
        "vipcall.transfer.rules",
        "vipcall.history.rules",
        "vipcall.directory.codes",
        "vipcall.prompts",
        "vipcall.config",
        "vipcall.metrics",
    ),
    # adapters to the outside: database schema and queries, ARI, the Asterisk sandbox
    ("vipcall.db", "vipcall.ari", "vipcall.sandbox"),
    # the service layer, call-time storage, the per-call core
    ("vipcall.directory", "vipcall.store", "vipcall.calls"),
    # capabilities: one folder each, its flow over the call core
    (
        "vipcall.selfservice",
        "vipcall.absence",
        "vipcall.voicemail",
        "vipcall.notices",
        "vipcall.transfer",
        "vipcall.servicenumbers",
        "vipcall.history",
    ),
    # processes and front ends
    (
        "vipcall.service",
        "vipcall.web",
        "vipcall.cli",
        "vipcall.devstack",
        "vipcall.cluster",
        "vipcall.__main__",
    ),
]

#: Pure modules import none of these (directly or through other vipcall modules).
IO = ("sqlalchemy", "asyncpg", "aiohttp", "alembic", "socket", "subprocess", "httpx", "orjson")
PURE = (
    "vipcall.presence",
    "vipcall.routing",
    "vipcall.numbers",
    "vipcall.voicemail.naming",
    "vipcall.notices.rules",
    "vipcall.voicemail.limits",
    "vipcall.voicemail.menu",
    "vipcall.absence.rules",
    "vipcall.servicenumbers.rules",
    "vipcall.transfer.rules",
    "vipcall.history.rules",
    "vipcall.directory.codes",
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def graph() -> dict[str, set[str]]:
    """vipcall module -> every module it imports (vipcall ones resolved to modules)."""
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    edges: dict[str, set[str]] = {}
    for name, path in modules.items():
        is_pkg = path.name == "__init__.py"
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = name.split(".")
                    anchor = anchor if is_pkg else anchor[:-1]
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    found.add(sub if sub in modules else base)
        edges[name] = found
    return edges


def layer_of(module: str) -> int | None:
    """The layer of the longest prefix in :data:`LAYERS` naming ``module``."""
    matches = [
        (len(prefix), i)
        for i, prefixes in enumerate(LAYERS)
        for prefix in prefixes
        if module == prefix or module.startswith(prefix + ".")
    ]
    return max(matches)[1] if matches else None


def test_every_module_has_a_layer() -> None:
    missing = [m for m in graph() if m != "vipcall" and layer_of(m) is None]
    assert missing == [], f"add these to LAYERS: {missing}"


def test_no_upward_imports() -> None:
    upward = []
    for module, imports in graph().items():
        mine = layer_of(module)
        for imported in imports:
            theirs = layer_of(imported) if imported.startswith("vipcall.") else None
            if mine is not None and theirs is not None and theirs > mine:
                upward.append(f"{module} (layer {mine}) imports {imported} (layer {theirs})")
    assert upward == []


def test_no_import_circles() -> None:
    edges = {m: {i for i in imps if i in graph() and i != m} for m, imps in graph().items()}
    # A package's __init__ re-exporting its own modules is not a circle of logic.
    for m, imps in edges.items():
        edges[m] = {i for i in imps if not (i.startswith(m + ".") or m.startswith(i + "."))}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(edges):
        if start not in state:
            visit(start, [start])
    assert cycles == [], "\n".join(" -> ".join(c) for c in cycles)


def _closure(module: str) -> set[str]:
    seen: set[str] = set()
    todo = [module]
    while todo:
        current = todo.pop()
        for imported in graph().get(current, ()):
            if imported not in seen:
                seen.add(imported)
                if imported in graph():
                    todo.append(imported)
    return seen


@pytest.mark.parametrize(
    "module", sorted(m for m in graph() if any(m == p or m.startswith(p + ".") for p in PURE))
)
def test_pure_modules_import_no_io(module: str) -> None:
    reached = _closure(module)
    bad = sorted(
        r
        for r in reached
        if r.split(".")[0] in IO or (r.startswith("vipcall.") and (layer_of(r) or 0) > 0)
    )
    assert bad == [], f"{module} reaches {bad}"
