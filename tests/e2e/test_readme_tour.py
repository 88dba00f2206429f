"""The README's "first tour", played as written in the simulator (API level, no browser).

The tour in README.md is a numbered list, one action a line, and this test reads it as a
newcomer would:

- a step starts ``N. **Name** (Channel)``: the default phone whose person's first name is
  Name (the simulator's three phones: the buyer on WhatsApp, the seller on Telegram, the
  courier on SMS); the channel, when given, must be that phone's;
- ``tap **Label**`` taps the button (WhatsApp reply button, Telegram inline button) shown with
  exactly that label; ``tap **☰ List** → **Row**`` opens the WhatsApp list whose button reads
  "☰ List", as the page draws it, and taps the row titled exactly Row;
- any other **bold** in a step is a label the phone must show at that point (a button, a
  list's ☰ button, a row);
- ``type `text` `` sends the first code span after "type"; a 6-digit number in it is the
  example PIN and is replaced by the PIN the buyer was actually sent;
- a "quoted" text is words the bot sends to the step's phone, … standing for anything.

Labels are looked for among the bubbles the phone got since it last sent something (what is on
its screen now), after the previous action's messages were all sent; quoted texts are waited
for, as a reader waits for a message. A README label that the bot does not show stops the
player with a `TourMismatch` naming the step, the line and what the phone shows instead.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from commerce import clock
from commerce.messaging.models import Outbox, OutboxStatus
from commerce.reviews.models import Review
from devtools.seed.seeder import seed_demo
from tests.e2e.test_simulator import SimServer, start_simulator
from tests.support import ROOT, Db

README = ROOT / "README.md"
CHANNELS = {"whatsapp": "wa", "telegram": "tg", "sms": "sms"}
PIN = re.compile(r"PIN\D*(\d{6})")


class TourParseError(ValueError):
    """The README's tour is not written in the form the player reads."""


class TourMismatch(AssertionError):
    """The README says something the simulator does not show."""


# ---------------------------------------------------------------------------- the parser


@dataclass(frozen=True)
class Action:
    kind: str  # "tap" | "see" (a label on screen) | "type" | "expect" (words the bot sends)
    text: str
    row: str = ""  # for a tap into a WhatsApp list: the row's title


@dataclass
class Step:
    number: int
    person: str
    channel: str  # "" when the line does not say
    lines: list[tuple[str, list[Action]]] = field(default_factory=list)


_STEP = re.compile(r"^(\d+)\.\s+\*\*([^*]+)\*\*\s*(?:\((\w+)\))?(.*)$")
_BULLET = re.compile(r"^\s+- (.*)$")
_TAP = re.compile(r"\btap\s+\*\*(.+?)\*\*(?:\s*→\s*\*\*(.+?)\*\*)?", re.IGNORECASE)
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_TYPE = re.compile(r"\btype\b[^`]*`([^`]+)`", re.IGNORECASE)
_QUOTE = re.compile(r'"([^"]+)"')


def tour_text(readme: str) -> str:
    """The tour: from its "**A first tour**" paragraph to the end of the numbered list."""
    start = readme.find("**A first tour**")
    if start < 0:
        raise TourParseError('README.md has no "**A first tour**" paragraph')
    lines = readme[start:].splitlines()
    seen_list = False
    for index, line in enumerate(lines):
        if _STEP.match(line):
            seen_list = True
        elif seen_list and not line.startswith(" "):  # a blank line or the next paragraph
            return "\n".join(lines[:index])
    if not seen_list:
        raise TourParseError("the tour has no numbered steps")
    return "\n".join(lines)


def _actions(line: str) -> list[Action]:
    """The line's actions in the order they appear in it."""
    found: list[tuple[int, Action]] = []
    taken: list[tuple[int, int]] = []
    for match in _TAP.finditer(line):
        found.append((match.start(), Action("tap", match.group(1), match.group(2) or "")))
        taken.append(match.span())
    for match in _BOLD.finditer(line):
        if not any(a <= match.start() < b for a, b in taken):
            found.append((match.start(), Action("see", match.group(1))))
    for match in _TYPE.finditer(line):
        found.append((match.start(), Action("type", match.group(1))))
    for match in _QUOTE.finditer(line):
        found.append((match.start(), Action("expect", match.group(1))))
    actions = [action for _, action in sorted(found, key=lambda pair: pair[0])]
    for action in actions:
        if action.kind == "tap" and action.text.startswith("☰") != bool(action.row):
            raise TourParseError(f"a list is tapped as **☰ List** → **Row**: {line!r}")
    if re.search(r"\b(tap|type)\b", line, re.IGNORECASE) and not any(
        a.kind in ("tap", "type") for a in actions
    ):
        raise TourParseError(f"a line says tap/type but names nothing to tap or type: {line!r}")
    return actions


def parse_tour(text: str) -> list[Step]:
    """The steps of the tour in `text` (the README, or a part holding the tour)."""
    steps: list[Step] = []
    lines: list[str] = []  # the current step's logical lines, continuations joined
    for raw in tour_text(text).splitlines()[1:]:
        step = _STEP.match(raw)
        bullet = _BULLET.match(raw)
        if step:
            steps.append(Step(int(step.group(1)), step.group(2), (step.group(3) or "").lower()))
            lines = [step.group(4).strip()]
            steps[-1].lines.append((lines[-1], []))
        elif bullet and steps:
            lines.append(bullet.group(1).strip())
            steps[-1].lines.append((lines[-1], []))
        elif raw.strip() and steps:  # a wrapped line goes on with the item above
            lines[-1] = f"{lines[-1]} {raw.strip()}"
            steps[-1].lines[-1] = (lines[-1], [])
    if not steps:
        raise TourParseError("the tour has no numbered steps")
    for step in steps:
        step.lines = [(line, _actions(line)) for line, _ in step.lines]
        if step.channel and step.channel not in CHANNELS:
            raise TourParseError(f"step {step.number}: unknown channel {step.channel!r}")
    if [s.number for s in steps] != list(range(1, len(steps) + 1)):
        raise TourParseError("the steps are not numbered 1, 2, 3…")
    return steps


# ---------------------------------------------------------------------------- the player


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("\u00a0", " ").replace("\u202f", " ")
    return re.sub(r"\s+", " ", text).strip()


def _pattern(quoted: str) -> re.Pattern[str]:
    parts = [re.escape(_plain(part)) for part in quoted.split("…")]
    return re.compile(r".*?".join(parts), re.DOTALL)


@dataclass(frozen=True)
class Target:
    """Something on a phone's screen that can be tapped, as the page draws it."""

    label: str
    row: str
    action: dict[str, Any]  # what the page posts to /simulator/api/send when it is tapped


def _targets(bubble: dict[str, Any]) -> list[Target]:
    targets: list[Target] = []
    if bubble.get("rejected"):
        return targets  # the page draws no buttons under a refused message
    for button in bubble.get("buttons") or []:
        tap = {"id": button["id"], "title": button["title"], "message_id": bubble["sid"]}
        targets.append(Target(button["title"], "", {"button": tap}))
    listed = bubble.get("list")
    if listed:
        opener = f"☰ {listed.get('button') or 'Options'}"
        for row in listed["rows"]:
            tap = {
                "id": row["id"],
                "title": row["title"],
                "list": True,
                "message_id": bubble["sid"],
            }
            targets.append(Target(opener, row["title"], {"button": tap}))
    for keys in bubble.get("inline_keyboard") or []:
        for key in keys:
            if key.get("callback_data"):
                data = key["callback_data"]
                tap = {"data": data, "message_id": bubble["message_id"], "text": key["text"]}
                targets.append(Target(key["text"], "", {"callback": tap}))
    return targets


@dataclass
class TourPlayer:
    sim: SimServer
    phones: dict[str, str] = field(default_factory=dict)  # first name → phone id
    typed: dict[str, list[str]] = field(default_factory=dict)  # phone id → texts sent

    def __post_init__(self) -> None:
        config = self.sim.client.get("/simulator/api/config").get_json()
        for persona in config["phones"]:
            self.phones[persona["name"].split()[0]] = persona["phone"]

    # -- what a phone shows

    def _on_screen(self, phone_id: str) -> list[dict[str, Any]]:
        """The bubbles the phone got since it last sent something, oldest first."""
        shown = self.sim.messages(phone_id)
        last_in = max((m["seq"] for m in shown if m["dir"] == "in"), default=-1)
        return [m for m in shown if m["dir"] == "out" and m["seq"] > last_in]

    def _describe(self, phone_id: str) -> str:
        bubbles = self._on_screen(phone_id) or self.sim.replies(phone_id)[-3:]
        out = []
        for bubble in bubbles:
            labels: dict[str, list[str]] = {}
            for target in _targets(bubble):
                labels.setdefault(target.label, []).append(target.row)
            keys = [f"{k} → {rows}" if any(rows) else k for k, rows in labels.items()]
            out.append(f"  {_plain(bubble.get('text', ''))[:90]!r} {keys}")
        return "\n".join(out) or "  (nothing)"

    def _settled(self, before: int) -> bool:
        with self.sim.db.session() as s:
            rows = list(s.scalars(select(Outbox).where(Outbox.id > before)))
        now = clock.now()
        # A row held for later on purpose (the review alert waits for the buyer's words) is
        # not waiting now; one due now or being sent is.
        return bool(rows) and not any(
            r.status == OutboxStatus.SENDING
            or (r.status == OutboxStatus.PENDING and (r.attempts > 0 or r.next_attempt_at <= now))
            for r in rows
        )

    def _post(self, phone_id: str, action: dict[str, Any]) -> None:
        with self.sim.db.session() as s:
            before = max(s.scalars(select(Outbox.id)), default=0)
        result = self.sim.send(phone_id, **action)
        assert result["status"] == 200, result
        self.sim.wait(lambda: self._settled(before))

    # -- the actions

    def play(self, steps: list[Step]) -> None:
        for step in steps:
            phone_id = self.phones.get(step.person)
            if phone_id is None:
                raise TourMismatch(
                    f"step {step.number}: no phone for **{step.person}** (the simulator's "
                    f"phones: {', '.join(self.phones)})"
                )
            if step.channel and not phone_id.startswith(f"{CHANNELS[step.channel]}:"):
                raise TourMismatch(f"step {step.number}: {step.person} is not on {step.channel}")
            for line, actions in step.lines:
                for action in actions:
                    where = f"step {step.number} ({step.person}, {phone_id}), {line!r}"
                    getattr(self, f"_{action.kind}")(phone_id, action, where)

    def _find(self, phone_id: str, action: Action, where: str) -> Target:
        self.sim.wait(lambda: self._on_screen(phone_id))
        for bubble in reversed(self._on_screen(phone_id)):
            for target in _targets(bubble):
                if target.label == action.text and target.row == action.row:
                    return target
        wanted = f"**{action.text}**" + (f" → **{action.row}**" if action.row else "")
        raise TourMismatch(
            f"{where}: no {wanted} on the phone; it shows:\n{self._describe(phone_id)}"
        )

    def _tap(self, phone_id: str, action: Action, where: str) -> None:
        self._post(phone_id, self._find(phone_id, action, where).action)

    def _see(self, phone_id: str, action: Action, where: str) -> None:
        self.sim.wait(lambda: self._on_screen(phone_id))
        for bubble in self._on_screen(phone_id):
            for target in _targets(bubble):
                if action.text in (target.label, target.row):
                    return
        raise TourMismatch(
            f"{where}: no **{action.text}** on the phone; it shows:\n{self._describe(phone_id)}"
        )

    def _type(self, phone_id: str, action: Action, where: str) -> None:
        text = action.text
        if re.search(r"\b\d{6}\b", text):  # the example PIN: the one the buyer was sent
            sent = [
                PIN.search(b.get("text", ""))
                for p in self.phones.values()
                for b in self.sim.replies(p)
            ]
            pins = [found.group(1) for found in sent if found]
            if not pins:
                raise TourMismatch(f"{where}: a PIN is typed before the buyer was sent one")
            text = re.sub(r"\b\d{6}\b", pins[-1], text)
        self._post(phone_id, {"text": text})
        self.typed.setdefault(phone_id, []).append(text)

    def _expect(self, phone_id: str, action: Action, where: str) -> None:
        pattern = _pattern(action.text)

        def said() -> bool:
            return any(
                pattern.search(_plain(b.get("text", ""))) for b in self.sim.replies(phone_id)
            )

        try:
            self.sim.wait(said)
        except TimeoutError:
            raise TourMismatch(
                f'{where}: the phone never got "{action.text}"; its last bubbles:\n'
                f"{self._describe(phone_id)}"
            ) from None


# ---------------------------------------------------------------------------- the tests


@pytest.fixture
def demo(pg: Db, tmp_path: Path) -> Iterator[SimServer]:
    """A fresh `make run`: the demo data, then `boutik serve --simulator`."""
    seed_demo(pg.factory, tmp_path / "media")
    server, stop = start_simulator(pg, tmp_path / "media")
    yield server
    stop()


def test_the_readme_tour_is_written_as_the_player_reads_it() -> None:
    steps = parse_tour(README.read_text(encoding="utf-8"))

    kinds = [(s.person, a.kind) for s in steps for _, actions in s.lines for a in actions]
    # Every phone acts (taps on WhatsApp and Telegram, typing on SMS) and the seller hears last.
    assert {kind for _, kind in kinds} == {"tap", "see", "type", "expect"}
    people = {s.person for s in steps}
    assert len(people) == 3
    assert steps[-1].lines[-1][1][-1].kind == "expect"
    assert sum(kind == "tap" for _, kind in kinds) >= 8


def test_the_parser_reads_each_kind_of_line() -> None:
    text = "\n".join(
        [
            "**A first tour** intro",
            "",
            '1. **Awa** (WhatsApp) gets "Bonjour … !":',
            "   - the card has **Acheter** and",
            "     **Autres choix**: tap **Acheter**",
            "   - tap **☰ Menu** → **Catalogue**",
            "   - type `D1 123456`: the PIN",
            "",
            "After the list.",
        ]
    )
    [step] = parse_tour(text)
    assert (step.person, step.channel) == ("Awa", "whatsapp")
    assert [a for _, actions in step.lines for a in actions] == [
        Action("expect", "Bonjour … !"),
        Action("see", "Acheter"),
        Action("see", "Autres choix"),
        Action("tap", "Acheter"),
        Action("tap", "☰ Menu", "Catalogue"),
        Action("type", "D1 123456"),
    ]
    with pytest.raises(TourParseError, match="names nothing"):
        parse_tour(text.replace("tap **Acheter**", "tap Acheter"))
    with pytest.raises(TourParseError, match="☰ List"):
        parse_tour(text.replace(" → **Catalogue**", ""))


def test_the_readme_tour_plays_in_the_simulator(demo: SimServer) -> None:
    steps = parse_tour(README.read_text(encoding="utf-8"))
    player = TourPlayer(demo)

    player.play(steps)

    # The review reached the seller: the buyer's words are in Mamadou's last bubble, and saved.
    buyer, seller = player.phones[steps[0].person], player.phones[steps[-1].person]
    comment = player.typed[buyer][-1]
    last = demo.replies(seller)[-1]["text"]
    assert comment in last and "5/5" in last
    with demo.db.session() as s:
        review = s.scalars(select(Review).order_by(Review.id.desc())).first()
    assert review is not None and (review.rating, review.comment) == (5, comment)


@pytest.mark.parametrize(
    ("written", "changed"),
    [
        ("**Téléphones**", "**Telephones**"),  # a WhatsApp list row
        ("**Ajouter au panier**", "**Ajouter au pannier**"),  # a button only seen, not tapped
        ("**✅ Accepter**", "**Accepter**"),  # a Telegram inline button, emoji dropped
    ],
)
def test_a_changed_label_stops_the_tour(demo: SimServer, written: str, changed: str) -> None:
    readme = README.read_text(encoding="utf-8")
    assert readme.count(written) == 1
    steps = parse_tour(readme.replace(written, changed))

    with pytest.raises(TourMismatch) as stopped:
        TourPlayer(demo).play(steps)

    report = str(stopped.value)
    assert changed in report and "step " in report
    assert written.strip("*") in report  # what the phone shows instead
