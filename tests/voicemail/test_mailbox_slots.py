"""Messages being left count against the mailbox's limit with the stored ones
(vipcall.voicemail.limits.MailboxSlots): two callers reaching a mailbox one short of full at
the same moment do not both get to leave a message."""

from __future__ import annotations

from vipcall.voicemail.limits import MailboxLimits, MailboxSlots

THREE = MailboxLimits(max_messages=3)


def test_one_short_of_full_takes_one_caller_only() -> None:
    slots = MailboxSlots()
    assert slots.take(7, 2, THREE)
    assert not slots.take(7, 2, THREE)  # the second caller meanwhile: full
    assert slots.take(8, 2, THREE)  # another mailbox is not affected
    assert dict(slots.held) == {7: 1, 8: 1}


def test_a_slot_given_back_is_free_again() -> None:
    slots = MailboxSlots()
    assert slots.take(7, 0, THREE) and slots.take(7, 0, THREE) and slots.take(7, 0, THREE)
    assert not slots.take(7, 0, THREE)
    slots.give_back(7)  # a recording under a second, discarded
    assert slots.take(7, 0, THREE)
    for _ in range(3):
        slots.give_back(7)
    assert dict(slots.held) == {}
    slots.give_back(7)  # nothing held: stays empty, never negative
    assert dict(slots.held) == {}


def test_a_full_mailbox_holds_nothing() -> None:
    slots = MailboxSlots()
    assert not slots.take(7, 3, THREE)
    assert dict(slots.held) == {}
