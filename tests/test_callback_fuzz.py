"""Every callback_data the bot can receive either works or gets a translated refusal.

A property test over EVERY factory in `handlers.callbacks`: hypothesis draws payloads with the
right prefix and wrong field counts, wrong types, empty fields, huge and negative numbers,
unicode digits, colons and free text, and the real application answers each of them through the
emulator. The person never reads the internal-error apology, every press is answered in words
(an alert or a message), nothing is logged as a failure, and a payload that no factory accepts
changes nothing in the database.
"""

from __future__ import annotations

import inspect
import logging
import string

from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from handlers import callbacks
from storage.models import (
    BudgetLine,
    ChecklistMark,
    Follow,
    Invite,
    Objection,
    Proposal,
    RoleGrant,
    Round,
    Verification,
)
from storage.views import Role
from tests.review_helpers import grant
from tests.seed import BLUMAH, kendal
from tests.test_review_authorization import seed_round

APOLOGY = "terjadi kesalahan di pihak kami"

FACTORIES = sorted(
    (
        cls
        for _name, cls in inspect.getmembers(callbacks, inspect.isclass)
        if issubclass(cls, callbacks.CallbackData) and cls is not callbacks.CallbackData
    ),
    key=lambda cls: cls.__name__,
)

HOSTILE_FIELDS = st.one_of(
    st.sampled_from(
        [
            "",
            "0",
            "1",
            "2",
            "3",
            "-1",
            "007",
            "99999999999999999999",
            str(2**31),
            str(2**63),
            "-99999999999",
            "1e3",
            "1.5",
            "²",
            "٣",
            "１",
            "NaN",
            "None",
            "true",
            "33.24.01.2001",
            "33.24.01",
            "33.24",
            "x" * 40,
            "candidate",
            "revision",
            "rejected",
            "winner",
            "district",
            "kecamatan",
            "villages",
            "clarify_end",
            "0-yes",
            "9-yes",
            "1-maybe",
            "²-yes",
            "n",
            "a",
            "id",
            "en",
        ]
    ),
    st.sampled_from(list(string.ascii_letters + "+-")),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(max_size=12),
    st.text(alphabet=":.-_ ", max_size=6),
)


def payloads() -> st.SearchStrategy[str]:
    """A factory's prefix, then hostile fields: mostly as many as the factory has, else 0 to
    fields+2 (colons inside fields included)."""

    def for_factory(cls: type[callbacks.CallbackData]) -> st.SearchStrategy[str]:
        fields = len(cls.model_fields)
        prefix = cls.__prefix__  # type: ignore[attr-defined]
        exact = st.lists(HOSTILE_FIELDS, min_size=fields, max_size=fields)
        wrong = st.lists(HOSTILE_FIELDS, min_size=0, max_size=fields + 2)
        return st.one_of(exact, exact, wrong).map(lambda parts: ":".join([prefix, *parts]))

    return st.sampled_from(FACTORIES).flatmap(for_factory)


# Known failures of the old code, always tried first.
SEEN_IN_THE_FIELD = ["a:s:1:", "a:s:1:33.24.01.2001", "o:R:1:a", "a:s:1::0", "a:s:1:x:0"]


def draw_payloads(count: int) -> list[str]:
    """Hypothesis draws the payloads; the app then answers them one by one on the event loop
    (hypothesis cannot drive the async fixtures itself)."""
    drawn: list[str] = []

    @settings(
        max_examples=count,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    @given(payloads())
    def collect(data: str) -> None:
        drawn.append(data)

    for data in SEEN_IN_THE_FIELD:
        collect = example(data)(collect)
    collect()
    # Per factory, every field count with only empty fields too.
    for cls in FACTORIES:
        for n in range(len(cls.model_fields) + 2):
            drawn.append(":".join([cls.__prefix__, *[""] * n]))  # type: ignore[attr-defined]
    return list(dict.fromkeys(drawn))


async def snapshot(sessions) -> dict[str, list]:
    """Every row an action could change, except the audit log, the conversation state and the
    people's last-seen times."""
    async with sessions() as session:
        tables = {}
        for model in (
            Proposal,
            Objection,
            Round,
            Follow,
            Invite,
            RoleGrant,
            BudgetLine,
            ChecklistMark,
            Verification,
        ):
            rows = await session.execute(select(model).order_by(*model.__table__.primary_key))
            tables[model.__name__] = [r.model_dump() for r in rows.scalars()]
        return tables


def well_formed(data: str) -> bool:
    """A button the bot could have drawn: some factory unpacks it."""
    for cls in FACTORIES:
        try:
            cls.unpack(data)
        except (TypeError, ValueError):
            continue
        return True
    return False


async def test_every_factory_answers_hostile_payloads(
    bot, person, sessions, clock, emulator, caplog
) -> None:
    district = await kendal(sessions, clock())
    await seed_round(sessions, clock, district)  # ids 1-3: the small numbers drawn below
    await bot()
    resident = person("Warga Iseng")
    await resident.send("/start")
    pakem = person("PAKEM Iseng")
    await grant(pakem, sessions, district, Role.PAKEM, clock(), BLUMAH)
    admin = person("Admin Iseng")
    await grant(admin, sessions, district, Role.ADMIN, clock())
    actors = [resident, pakem, admin]
    anchors = {p.id: p.last for p in actors}
    before = await snapshot(sessions)
    caplog.set_level(logging.ERROR)
    failures: list[str] = []
    worked: list[tuple[str, list[str]]] = []
    for i, data in enumerate(draw_payloads(200)):
        actor = actors[i % len(actors)]
        alerts = len(actor.alerts)
        await actor.press_data(anchors[actor.id], data)
        query = emulator.callbacks[max(emulator.callbacks, key=int)]
        problems = []
        if not query["answered"]:
            problems.append("not answered")
        if not actor.replies and len(actor.alerts) == alerts:
            problems.append("no answer in words")
        if actor.saw(APOLOGY):
            problems.append("internal-error apology")
        if any(r.levelno >= logging.ERROR for r in caplog.records):
            record = caplog.records[-1]
            error = record.exc_info[1] if record.exc_info else None
            problems.append(f"logged: {record.getMessage()[:60]} {error!r}"[:200])
            caplog.clear()
        after = await snapshot(sessions)
        if after != before:
            changed = [t for t in after if after[t] != before[t]]
            if not well_formed(data):
                problems.append(f"refused, yet changed {changed}")
            worked.append((data, changed))  # a well-formed button the actor may press
        if problems:
            failures.append(f"{data!r}: {', '.join(problems)}")
        # A leftover conversation (a reason asked for) must not swallow the next press.
        await actor.send("/batal")
        before = await snapshot(sessions)
    assert not failures, "\n".join(failures[:40]) + f"\n({len(failures)} payloads failed)"
    # Only well-formed buttons the actor is entitled to did anything, and rarely so.
    assert len(worked) <= 10, worked
    # Pressing the same button twice asks for an edit that changes nothing: Telegram refuses
    # it, and the bot takes that calmly (checked above: no apology, nothing logged).
    assert not [r for r in emulator.refusals if "message is not modified" not in r[2]]
