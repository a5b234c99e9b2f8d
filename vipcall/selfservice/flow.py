"""Self-service by phone: feature codes and the activity number's menu."""

from __future__ import annotations

import asyncio
from typing import Protocol

from vipcall.calls.channel import CallChannel
from vipcall.calls.context import CallContext, PresenceStore, ServiceNumberStore
from vipcall.calls.route import Routed
from vipcall.directory.errors import DirectoryError, ForwardRefused
from vipcall.presence.codes import (
    ClearForwarding,
    FeatureRequest,
    InvalidCode,
    ServiceLogin,
    SetActivity,
    SetForwarding,
    SetRole,
)
from vipcall.presence.model import Activity
from vipcall.prompts import activity_menu, activity_saved, forward_refused, sound
from vipcall.routing.decisions import ActivityMenu, Cause, Feature
from vipcall.routing.rules import role_falls_back
from vipcall.routing.snapshot import Subscriber

#: Seconds a feature code's write may take before the caller is told it failed.
WRITE_TIMEOUT = 5.0
#: How many times the menu is offered before the call ends (no input: repeat once).
MENU_TRIES = 2


async def feature(ch: CallChannel, ctx: CallContext, routed: Routed) -> str:
    """Carry out the code (while the caller hears ringing), then answer and confirm with a
    prompt right away, and hang up."""
    assert isinstance(routed.decision, Feature) and routed.party is not None
    user, request = routed.party, routed.decision.request
    try:
        media, outcome = await asyncio.wait_for(
            apply_feature(ctx.store, user, request), WRITE_TIMEOUT
        )
    except Exception as exc:  # noqa: BLE001 - the caller hears that it did not work
        ch.log.error("feature %s for user %s failed: %r", request, user.id, exc)
        media, outcome = [sound("technical-error", user.org.language)], "feature_failed"
    ch.log.info("feature %s for user %s: %s", request, user.id, outcome)
    await ch.say_and_hang_up(media)
    return outcome


class SelfServiceStore(PresenceStore, ServiceNumberStore, Protocol):
    """What feature codes write."""


async def apply_feature(
    state: SelfServiceStore, user: Subscriber, request: FeatureRequest
) -> tuple[list[str], str]:
    """Store what the code asks for; the prompt media to confirm it and an outcome label."""
    lang = user.org.language
    activated = [sound("feature-activated", lang)]
    match request:
        case SetActivity(activity=activity):
            await state.set_activity(user.id, activity)
            return activated, "activity_set"
        case SetRole(role=role):
            await state.set_role(user.id, role)
            if role_falls_back(user, role):
                return [*activated, sound("role-fallback-mobile", lang)], "role_set_fallback"
            return activated, "role_set"
        case SetForwarding(target=target):
            try:
                await state.set_forwarding(user.id, target)
            except ForwardRefused as refused:
                return forward_refused(
                    refused.reason.value, lang
                ), f"forward_refused_{refused.reason.name.lower()}"
            return activated, "forward_set"
        case ClearForwarding():
            await state.set_forwarding(user.id, None)
            return activated, "forward_cleared"
        case ServiceLogin(service_number=sn_id, logged_in=logged_in):
            try:
                await state.set_service_login(user.id, sn_id, logged_in)
            except DirectoryError:  # no such service number, or not a member of it
                return [sound("service-not-member", lang)], "service_login_refused"
            prompt = "service-login" if logged_in else "service-logout"
            return [sound(prompt, lang)], "service_logged_in" if logged_in else "service_logged_out"
        case InvalidCode():
            return [sound("invalid-code", lang)], "invalid_code"


async def activity_menu_call(ch: CallChannel, ctx: CallContext, routed: Routed) -> str:
    """The activity number: the current activity, then "press 1..8"; the choice is saved
    and confirmed. No input: the menu once more, then goodbye."""
    assert isinstance(routed.decision, ActivityMenu) and routed.party is not None
    user = routed.party
    lang = user.org.language
    await ch.answer()
    for _ in range(MENU_TRIES):
        digit = await ch.prompt_digit(activity_menu(int(user.activity), lang), ctx.menu_timeout)
        if digit is not None and digit in "12345678":
            chosen = Activity(int(digit))
            try:
                await asyncio.wait_for(ctx.store.set_activity(user.id, chosen), WRITE_TIMEOUT)
            except Exception as exc:  # noqa: BLE001 - the caller hears that it did not work
                ch.log.error("saving activity %s for user %s failed: %r", chosen, user.id, exc)
                await ch.play([sound("technical-error", lang)])
                await ch.hangup(Cause.FAILURE)
                return "menu_failed"
            ch.log.info("activity of user %s set to %s by the menu", user.id, chosen.name)
            await ch.say_and_hang_up(activity_saved(int(chosen), lang))
            return "activity_set"
        if digit is not None:
            await ch.play([sound("invalid-choice", lang)])
    await ch.play([sound("no-input-goodbye", lang)])
    await ch.hangup(Cause.NORMAL)
    return "menu_no_input"
