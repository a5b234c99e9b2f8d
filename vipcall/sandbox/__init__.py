"""Asterisk 22 sandbox: a Debian sid chroot plus per-instance rendered configuration.

Public API::

    ensure_chroot(root)            build the chroot once (debootstrap + apt), reuse afterwards
    prepare_chroot(root)           copy /etc/hosts + /etc/resolv.conf in, mount proc (idempotent)
    Instance(name, root, ...)      render() / start() / stop() / cli() / is_running()
    render_template(text, values)  @@name@@ placeholder substitution (Asterisk ${...} untouched)
"""

from vipcall.sandbox.chroot import (
    DEFAULT_ROOT,
    ChrootError,
    default_root,
    ensure_chroot,
    prepare_chroot,
)
from vipcall.sandbox.instance import Instance, InstanceError
from vipcall.sandbox.templates import TemplateError, render_template

__all__ = [
    "DEFAULT_ROOT",
    "ChrootError",
    "Instance",
    "InstanceError",
    "TemplateError",
    "default_root",
    "ensure_chroot",
    "prepare_chroot",
    "render_template",
]
