"""Directory service layer: organisations, users, CSV import, softphones, presence state.

Shared by the admin CLI, the call flows and (later) the web API. Functions take an
``AsyncSession`` and flush but never commit: the caller owns the transaction, e.g.::

    async with transaction(sessions) as s:
        user = await create_user(s, organization="taipalsaari.fi", display_name="Maija",
                                 mobile="040 123 4567")

Errors are :class:`DirectoryError` subclasses with one-line messages.
"""

from vipcall.directory.csv_import import import_users_csv, parse_users_csv
from vipcall.directory.demo import DEMO_DOMAIN, Demo, ensure_demo
from vipcall.directory.errors import (
    CsvImportError,
    DirectoryError,
    DuplicateOrganization,
    DuplicateUser,
    ForwardRefused,
    InvalidField,
    UnknownOrganization,
    UnknownUser,
)
from vipcall.directory.localtime import LOCAL_TZ, format_local, parse_local_timestamp
from vipcall.directory.organizations import (
    create_organization,
    find_organization,
    get_organization,
    green_activities,
    list_organizations,
    parse_red_activities,
    set_red_activities,
    user_counts,
)
from vipcall.directory.presence import (
    Colour,
    ForwardingTargets,
    Presence,
    PresenceView,
    ScheduledEntry,
    add_scheduled_activity,
    colour,
    delete_scheduled_activity,
    forwarding_targets,
    get_forwarding_targets,
    get_forwardings,
    get_presence,
    list_scheduled_activities,
    presence_view,
    scheduled_view,
    set_activity,
    set_forwarding,
    set_role,
    validate_forward_target,
)
from vipcall.directory.softphones import (
    add_softphone,
    get_softphone_by_endpoint,
    list_softphones,
    remove_softphone,
)
from vipcall.directory.users import (
    create_user,
    get_user,
    get_user_by_number,
    get_user_by_username,
    hash_password,
    list_users,
    resolve_user,
    username_for,
    verify_password,
)

__all__ = [
    "DEMO_DOMAIN",
    "LOCAL_TZ",
    "Colour",
    "CsvImportError",
    "Demo",
    "DirectoryError",
    "DuplicateOrganization",
    "DuplicateUser",
    "ForwardRefused",
    "ForwardingTargets",
    "InvalidField",
    "Presence",
    "PresenceView",
    "ScheduledEntry",
    "UnknownOrganization",
    "UnknownUser",
    "add_scheduled_activity",
    "add_softphone",
    "colour",
    "create_organization",
    "create_user",
    "delete_scheduled_activity",
    "ensure_demo",
    "find_organization",
    "format_local",
    "forwarding_targets",
    "get_forwarding_targets",
    "get_forwardings",
    "get_organization",
    "get_presence",
    "get_softphone_by_endpoint",
    "get_user",
    "get_user_by_number",
    "get_user_by_username",
    "green_activities",
    "hash_password",
    "import_users_csv",
    "list_organizations",
    "list_scheduled_activities",
    "list_softphones",
    "list_users",
    "parse_local_timestamp",
    "parse_red_activities",
    "parse_users_csv",
    "presence_view",
    "remove_softphone",
    "resolve_user",
    "scheduled_view",
    "set_activity",
    "set_forwarding",
    "set_red_activities",
    "set_role",
    "user_counts",
    "username_for",
    "validate_forward_target",
    "verify_password",
]
