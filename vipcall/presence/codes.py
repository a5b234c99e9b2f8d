"""Feature codes dialled from a user's own handset or softphone.

``983`` + n (1..8) sets the activity, ``984`` + n (1..5) the role, ``987`` + number sets
immediate forwarding and ``987`` alone clears it. ``9851`` + n logs the user in to service
number n (its id, ``vipcall service-number list``), ``9850`` + n logs them out. Anything
else starting with ``98`` is an invalid code: Finnish numbers start with 0, +, 00 or 1
(emergency/service), so no real number is taken for a code.
"""

from __future__ import annotations

from dataclasses import dataclass

from vipcall.presence.model import ACTIVITY_MAX, ACTIVITY_MIN, ROLE_MAX, ROLE_MIN, Activity, Role

PREFIX = "98"


@dataclass(frozen=True, slots=True)
class SetActivity:
    activity: Activity


@dataclass(frozen=True, slots=True)
class SetRole:
    role: Role


@dataclass(frozen=True, slots=True)
class SetForwarding:
    target: str
    """As dialled; validated and normalised when applied."""


@dataclass(frozen=True, slots=True)
class ClearForwarding:
    pass


@dataclass(frozen=True, slots=True)
class ServiceLogin:
    """Log in to (``logged_in``) or out of the service number with this id."""

    service_number: int
    logged_in: bool


@dataclass(frozen=True, slots=True)
class InvalidCode:
    dialled: str


FeatureRequest = (
    SetActivity | SetRole | SetForwarding | ClearForwarding | ServiceLogin | InvalidCode
)


def is_feature_code(dialled: str) -> bool:
    return dialled.startswith(PREFIX)


def parse_feature_code(dialled: str) -> FeatureRequest | None:
    """The request a dialled string makes, ``None`` when it is not a feature code."""
    if not is_feature_code(dialled):
        return None
    code, rest = dialled[:3], dialled[3:]
    if (
        code == "983"
        and len(rest) == 1
        and rest.isdigit()
        and ACTIVITY_MIN <= int(rest) <= ACTIVITY_MAX
    ):
        return SetActivity(Activity(int(rest)))
    if code == "984" and len(rest) == 1 and rest.isdigit() and ROLE_MIN <= int(rest) <= ROLE_MAX:
        return SetRole(Role(int(rest)))
    if code == "987":
        if rest == "":
            return ClearForwarding()
        if rest.lstrip("+").isdigit():
            return SetForwarding(rest)  # validated as a number when applied
        return InvalidCode(dialled)  # 987 + garbage (*, #, letters)
    if code == "985" and 2 <= len(rest) <= 10 and rest.isdigit() and rest[0] in "01":
        if int(rest[1:]) > 0:
            return ServiceLogin(int(rest[1:]), rest[0] == "1")
    return InvalidCode(dialled)
