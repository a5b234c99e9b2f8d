"""The listening number's menu (+358 40 1621485), keys as Asterisk's VoiceMailMain. Pure:
a state and a key in, the next state and what to do out; the flow
(:mod:`vipcall.voicemail.listen`) only carries the actions out.

Main menu: 1 new messages, 2 saved messages, 0 mailbox options, * help, # exit.
During a message: 4 previous, 5 repeat, 6 next, 7 delete, 9 save, * help, # back to the
main menu. Mailbox options: 1 record greeting, 2 delete own greeting, 3 record name,
5 change PIN, * help, # back.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum

#: The key map, as README documents it: menu -> key -> what it does (Finnish, English).
#: The one home of these words (the home page shows them from the API).
KEY_MAP: dict[str, dict[str, tuple[str, str]]] = {
    "main": {
        "1": ("uudet viestit", "new messages"),
        "2": ("tallennetut viestit", "saved messages"),
        "0": ("vastaajan asetukset", "mailbox options"),
        "*": ("ohje", "help"),
        "#": ("lopetus", "exit"),
    },
    "message": {
        "4": ("edellinen viesti", "previous message"),
        "5": ("toista", "repeat"),
        "6": ("seuraava viesti", "next message"),
        "7": ("poista", "delete"),
        "9": ("tallenna", "save"),
        "*": ("ohje", "help"),
        "#": ("takaisin päävalikkoon", "back to the main menu"),
    },
    "options": {
        "1": ("äänitä tervehdys", "record greeting"),
        "2": ("poista oma tervehdys", "delete own greeting"),
        "3": ("äänitä nimi", "record name"),
        "5": ("vaihda PIN-koodi", "change PIN"),
        "*": ("ohje", "help"),
        "#": ("takaisin päävalikkoon", "back to the main menu"),
    },
}

#: What each menu of :data:`KEY_MAP` is called (Finnish, English).
MENU_LABELS: dict[str, tuple[str, str]] = {
    "main": ("Päävalikko", "Main menu"),
    "message": ("Viestin aikana", "While a message plays"),
    "options": ("Vastaajan asetukset", "Mailbox options"),
}


class Menu(Enum):
    MAIN = "main"
    MESSAGE = "message"
    OPTIONS = "options"


class Folder(Enum):
    NEW = "new"
    SAVED = "saved"


@dataclass(frozen=True, slots=True)
class Message:
    id: int
    caller: str | None
    created_at: datetime
    duration_ms: int
    saved: bool = False
    heard: bool = False


@dataclass(frozen=True, slots=True)
class State:
    """Where the listener is. ``new``/``saved`` are the folders as listed at the start of
    the call (deleted ones are dropped, saved ones move)."""

    new: tuple[Message, ...]
    saved: tuple[Message, ...]
    menu: Menu = Menu.MAIN
    folder: Folder = Folder.NEW
    index: int = 0

    @property
    def messages(self) -> tuple[Message, ...]:
        return self.new if self.folder is Folder.NEW else self.saved

    @property
    def current(self) -> Message | None:
        msgs = self.messages
        if self.menu is Menu.MESSAGE and 0 <= self.index < len(msgs):
            return msgs[self.index]
        return None


# --- actions the flow carries out ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SayCounts:
    """ "You have N new messages (and M saved)"."""


@dataclass(frozen=True, slots=True)
class SayMenu:
    """The current menu's keys."""


@dataclass(frozen=True, slots=True)
class SayNoMessages:
    pass


@dataclass(frozen=True, slots=True)
class SayEnd:
    """No more messages in this folder."""


@dataclass(frozen=True, slots=True)
class SayInvalid:
    pass


@dataclass(frozen=True, slots=True)
class PlayMessage:
    """Introduce the message (its number, caller and time), then play it; mark it heard."""

    message: Message
    position: int


@dataclass(frozen=True, slots=True)
class DeleteMessage:
    message_id: int


@dataclass(frozen=True, slots=True)
class SaveMessage:
    message_id: int


@dataclass(frozen=True, slots=True)
class RecordGreeting:
    pass


@dataclass(frozen=True, slots=True)
class DeleteGreeting:
    pass


@dataclass(frozen=True, slots=True)
class RecordName:
    pass


@dataclass(frozen=True, slots=True)
class ChangePin:
    pass


@dataclass(frozen=True, slots=True)
class Goodbye:
    pass


Action = (
    SayCounts
    | SayMenu
    | SayNoMessages
    | SayEnd
    | SayInvalid
    | PlayMessage
    | DeleteMessage
    | SaveMessage
    | RecordGreeting
    | DeleteGreeting
    | RecordName
    | ChangePin
    | Goodbye
)


def start(new: tuple[Message, ...], saved: tuple[Message, ...]) -> tuple[State, list[Action]]:
    """The call reached the mailbox: the counts, then the main menu."""
    return State(new, saved), [SayCounts(), SayMenu()]


def _open(state: State, folder: Folder) -> tuple[State, list[Action]]:
    msgs = state.new if folder is Folder.NEW else state.saved
    if not msgs:
        return replace(state, menu=Menu.MAIN), [SayNoMessages(), SayMenu()]
    opened = replace(state, menu=Menu.MESSAGE, folder=folder, index=0)
    return opened, [PlayMessage(msgs[0], 1)]


def _goto(state: State, index: int) -> tuple[State, list[Action]]:
    msgs = state.messages
    if index >= len(msgs):
        return replace(state, menu=Menu.MAIN, index=0), [SayEnd(), SayMenu()]
    index = max(index, 0)
    return replace(state, index=index), [PlayMessage(msgs[index], index + 1)]


def _without(state: State, message_id: int) -> tuple[Message, ...]:
    return tuple(m for m in state.messages if m.id != message_id)


def press(state: State, key: str) -> tuple[State, list[Action]]:
    """The listener pressed ``key`` (or ``""`` for no key within the timeout)."""
    if key == "*":
        return state, [SayMenu()]
    if state.menu is Menu.MAIN:
        match key:
            case "1":
                return _open(state, Folder.NEW)
            case "2":
                return _open(state, Folder.SAVED)
            case "0":
                return replace(state, menu=Menu.OPTIONS), [SayMenu()]
            case "#":
                return state, [Goodbye()]
            case _:
                return state, [SayInvalid(), SayMenu()]
    if state.menu is Menu.OPTIONS:
        match key:
            case "1":
                return state, [RecordGreeting(), SayMenu()]
            case "2":
                return state, [DeleteGreeting(), SayMenu()]
            case "3":
                return state, [RecordName(), SayMenu()]
            case "5":
                return state, [ChangePin(), SayMenu()]
            case "#":
                return replace(state, menu=Menu.MAIN), [SayMenu()]
            case _:
                return state, [SayInvalid(), SayMenu()]
    current = state.current
    assert current is not None
    match key:
        case "4":
            return _goto(state, state.index - 1)
        case "5":
            return _goto(state, state.index)
        case "6" | "":
            return _goto(state, state.index + 1)
        case "7":
            rest = _without(state, current.id)
            moved = _folder(state, rest)
            return _after_removal(moved, [DeleteMessage(current.id)])
        case "9":
            if state.folder is Folder.SAVED:
                return _goto(state, state.index + 1)
            rest = _without(state, current.id)
            saved = (*state.saved, replace(current, saved=True, heard=True))
            moved = replace(_folder(state, rest), saved=saved)
            return _after_removal(moved, [SaveMessage(current.id)])
        case "#":
            return replace(state, menu=Menu.MAIN, index=0), [SayMenu()]
        case _:
            return state, [SayInvalid(), PlayMessage(current, state.index + 1)]


def _folder(state: State, messages: tuple[Message, ...]) -> State:
    if state.folder is Folder.NEW:
        return replace(state, new=messages)
    return replace(state, saved=messages)


def _after_removal(state: State, done: list[Action]) -> tuple[State, list[Action]]:
    """After the current message left the folder, the next one (now at the same index)."""
    nxt, actions = _goto(state, state.index)
    return nxt, [*done, *actions]
