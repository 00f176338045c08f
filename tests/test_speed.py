"""The hot path's cost, and the caches that make it cheap: grants are never cached; a round or
a place is served from the cache only under the database's cache stamp it was read under, and
every change to one replaces that stamp."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot import people, roles
from storage import cache, queries
from storage.models import District, Person, Region, Round, RoundVillage, Setting
from storage.views import Grant, Role
from tests.bench.updates import Statements, statements_per_step
from tests.seed import BLUMAH, invite, kendal, round_

TG = 7007


async def test_a_wizard_step_costs_few_statements(db_url):
    """A whole proposal, one update at a time: 14 statements per typed answer and 11-17 per
    button before the person, the form state and the round stopped being read again and
    again."""
    steps = await statements_per_step(db_url)
    assert len(steps) == 22
    first_answers = [n for _, n in steps[2:9]]  # title .. households: no budget lines yet
    assert max(first_answers) <= 5, steps
    assert max(n for _, n in steps[2:-1]) <= 7, steps  # every step of the form
    assert steps[1][1] <= 10, steps  # opening the form with a cold cache: 17 before


async def test_grants_come_fresh_with_every_update(sessions, clock):
    """A redeemed invite and a revoked role count from the very next update: grants are read
    with the person, never cached."""
    district = await kendal(sessions, clock())
    round_view = await round_(sessions, district, clock())
    async with sessions() as s, s.begin():
        row = await people.ensure_person(s, TG, "Ani", None, "id", clock())
    assert row.id is not None
    code = await invite(sessions, district, Role.PAKEM, clock(), village=BLUMAH)

    async def seen() -> tuple[Grant, ...]:
        async with sessions() as s, s.begin():
            view = await people.person_of_update(s, TG, "Ani", None, "id", clock())
            await queries.round_by_id(s, round_view.id)  # fills the cache
            assert view == await queries.person_view_by_id(s, view.id)
            return view.grants

    assert await seen() == ()
    async with sessions() as s, s.begin():
        await people.redeem_invite(s, row.id, code, clock())
    assert await seen() == (Grant(Role.PAKEM, district.id, BLUMAH, round_view.id),)
    async with sessions() as s, s.begin():
        person = await s.get(Person, row.id)
        assert person is not None
        await roles.revoke(s, district.id, person, Role.PAKEM, "Pindah ke desa lain", clock())
    assert await seen() == ()


@pytest.mark.parametrize("minutes", [1, 9, 11])
@pytest.mark.parametrize("renamed", [False, True])
@pytest.mark.parametrize("unreachable", [False, True])
async def test_the_hot_path_writes_the_person_as_ensure_person_would(
    sessions, clock, minutes, renamed, unreachable
):
    """Same row after `person_of_update` as after `ensure_person`, for every combination of a
    recent or old visit, a new Telegram name and a blocked-then-back person."""
    start = clock()
    later = start + timedelta(minutes=minutes)
    name = "Ani Baru" if renamed else "Ani"
    results = []
    for telegram_id, load in ((TG, people.ensure_person), (TG + 1, people.person_of_update)):
        async with sessions() as s, s.begin():
            row = await people.ensure_person(s, telegram_id, "Ani", "ani", "id", start)
            if unreachable:
                row.unreachable_at = start
        async with sessions() as s, s.begin():
            await load(s, telegram_id, name, "ani2", "id", later)
        async with sessions() as s:
            got = (
                await s.execute(select(Person).where(Person.telegram_id == telegram_id))
            ).scalar_one()
            results.append((got.full_name, got.username, got.last_seen_at, got.unreachable_at))
    assert results[0] == results[1]
    assert results[1][2] == (later if minutes > 10 or renamed else start)
    assert results[1][3] is None


async def _read_round(sessions, statements, round_id, *, stamped=True):
    """One update's read of a round: (the round, statements it cost)."""
    async with sessions() as s:
        if stamped:
            await queries.person_for_update(s, TG)
        before = statements.n
        view = await queries.round_by_id(s, round_id)
        return view, statements.n - before


async def test_a_cached_round_follows_changes_from_this_and_other_processes(
    engine, sessions, clock
):
    district = await kendal(sessions, clock())
    round_view = await round_(sessions, district, clock())
    async with sessions() as s, s.begin():
        await people.ensure_person(s, TG, "Ani", None, "id", clock())
    statements = Statements(engine)
    first, cost = await _read_round(sessions, statements, round_view.id)
    assert cost >= 1
    again, cost = await _read_round(sessions, statements, round_view.id)
    assert (again, cost) == (first, 0)
    # Outside an update (scheduler, CLI) the session carries no stamp: always the database.
    _, cost = await _read_round(sessions, statements, round_view.id, stamped=False)
    assert cost >= 1

    # Another process moves the deadline: plain SQL plus the stamp, this process's cache
    # untouched. The next update here reads the new stamp and the new deadline.
    later = round_view.submission_deadline + timedelta(days=3)
    async with engine.begin() as conn:
        await conn.execute(
            update(Round.__table__)  # type: ignore[attr-defined]
            .where(Round.__table__.c.id == round_view.id)  # type: ignore[attr-defined]
            .values(submission_deadline=later)
        )
        await conn.run_sync(cache.bump)
    moved, cost = await _read_round(sessions, statements, round_view.id)
    assert moved is not None and moved.submission_deadline == later and cost >= 1

    # This process changes it through the ORM (as the calendar desk does): replaced stamp.
    async with sessions() as s, s.begin():
        row = await s.get(Round, round_view.id)
        assert row is not None
        row.name = "Tahap 2"
    renamed, _ = await _read_round(sessions, statements, round_view.id)
    assert renamed is not None and renamed.name == "Tahap 2"


async def test_an_uncommitted_change_is_seen_by_its_own_transaction_and_never_cached(
    sessions, clock
):
    district = await kendal(sessions, clock())
    round_view = await round_(sessions, district, clock())
    async with sessions() as s, s.begin():
        await people.ensure_person(s, TG, "Ani", None, "id", clock())
    for flush in (False, True):
        async with sessions() as s:
            await queries.person_for_update(s, TG)
            await queries.round_by_id(s, round_view.id)  # cached
            row = await s.get(Round, round_view.id)
            assert row is not None
            row.name = "Belum jadi"
            if flush:
                await s.flush()
            mine = await queries.round_by_id(s, round_view.id)
            assert mine is not None and mine.name == "Belum jadi"
            await s.rollback()
        async with sessions() as s:
            await queries.person_for_update(s, TG)
            theirs = await queries.round_by_id(s, round_view.id)
            assert theirs is not None and theirs.name == round_view.name


async def _stamp(sessions) -> str | None:
    async with sessions() as s:
        return (
            await s.execute(select(Setting.value).where(Setting.key == cache.VERSION_KEY))
        ).scalar_one_or_none()


@pytest.mark.parametrize("what", ["round", "round village", "district", "region", "person"])
async def test_every_change_to_what_is_cached_replaces_the_stamp(sessions, clock, what):
    """Whoever writes a round, its villages, a district or a region through the ORM (the
    calendar, winners, a region import): no writer has to remember to invalidate."""
    district = await kendal(sessions, clock())
    round_view = await round_(sessions, district, clock())
    async with sessions() as s, s.begin():
        await people.ensure_person(s, TG, "Ani", None, "id", clock())
    before = await _stamp(sessions)
    async with sessions() as s, s.begin():
        if what == "round":
            row = await s.get(Round, round_view.id)
            row.ceiling = 123_000_000  # type: ignore[union-attr]
        elif what == "round village":
            link = (
                (
                    await s.execute(
                        select(RoundVillage).where(RoundVillage.round_id == round_view.id)
                    )
                )
                .scalars()
                .first()
            )
            await s.delete(link)
        elif what == "district":
            (await s.get(District, district.id)).timezone = "Asia/Makassar"  # type: ignore[union-attr]
        elif what == "region":
            (await s.get(Region, BLUMAH)).name = "Blumah Baru"  # type: ignore[union-attr]
        else:
            person = (await s.execute(select(Person).where(Person.telegram_id == TG))).scalar_one()
            person.full_name = "Ani Lain"
    after = await _stamp(sessions)
    assert (after != before) == (what != "person")
