"""Config template rendering.

Placeholders are written ``@@name@@`` (letters, digits, underscore). ``string.Template``
is deliberately not used: Asterisk's own ``${VAR}`` syntax must pass through untouched.
An unknown placeholder is an error, so a typo never reaches Asterisk.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

PLACEHOLDER = re.compile(r"@@([A-Za-z_][A-Za-z0-9_]*)@@")


class TemplateError(ValueError):
    """A template names a placeholder that has no value."""


def render_template(text: str, values: Mapping[str, object], *, source: str = "<string>") -> str:
    missing: set[str] = set()

    def substitute(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            missing.add(key)
            return match.group(0)
        return str(values[key])

    out = PLACEHOLDER.sub(substitute, text)
    if missing:
        raise TemplateError(f"{source}: no value for placeholder(s) {', '.join(sorted(missing))}")
    return out


def render_dir(src: Path, dest: Path, values: Mapping[str, object]) -> list[Path]:
    """Render every ``*.conf`` file of ``src`` into ``dest``; returns the written paths."""
    written: list[Path] = []
    for template in sorted(src.glob("*.conf")):
        target = dest / template.name
        target.write_text(render_template(template.read_text(), values, source=str(template)))
        written.append(target)
    return written
