"""Taking a role away: who may remove whom, the revocation itself (reason, audit, notice), and
in the bot: the removed member is told and their old buttons stop working at once."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bot import people, roles
from bot.errors import Invalid, NotAllowed, NotFound
from handlers.callbacks import MemberCb, QueueCb, RevCb
from storage import queries
from storage import roles as roles_store
from storage.models import AuditEntry, Outbox, Person, Proposal, RoleGrant
from storage.views import Grant, PersonView, Role
from tests.outbound_helpers import drained
from tests.review_helpers import KEDITEN, grant
from tests.seed import BLUMAH, kendal, round_
from tests.test_review_authorization import denied, seed_round


def someone(*grants: Grant) -> PersonView:
    return PersonView(1, 1, "X", "id", tuple(grants))


@pytest.mark.parametrize(
    ("actor_roles", "may"),
    [
        ((), set()),
        ((Role.PAKEM,), set()),
        ((Role.POKJA,), {Role.PAKEM}),
        ((Role.ADMIN,), {Role.PAKEM, Role.POKJA}),
        ((Role.POKJA, Role.ADMIN), {Role.PAKEM, Role.POKJA}),
    ],
)
def test_who_may_remove_whom(actor_roles, may):
    """The POKJA removes PAKEM members, an admin removes POKJA members too; an admin role is
    taken away only by the operator; another district's roles give no right here."""
    here = someone(*(Grant(r, 1, BLUMAH if r == Role.PAKEM else None, 1) for r in actor_roles))
    elsewhere = someone(*(Grant(r, 2, None, None) for r in actor_roles))
    for role in Role:
        if role in may:
            roles.require_may_revoke(here, role, 1)
        else:
            with pytest.raises(NotAllowed):
                roles.require_may_revoke(here, role, 1)
        with pytest.raises(NotAllowed):
            roles.require_may_revoke(elsewhere, role, 1)
    assert set(roles.removable_roles(here, 1)) == may


async def people_of(session, district, round_id):
    made = {}
    for tg, name, role, village in (
        (1, "Budi POKJA", Role.POKJA, None),
        (2, "Ira Admin", Role.ADMIN, None),
        (3, "Ani Blumah", Role.PAKEM, BLUMAH),
        (3, "Ani Blumah", Role.PAKEM, KEDITEN),  # the same person in a second village
    ):
        row = await queries.person_by_telegram_id(session, tg)
        if row is None:
            row = Person(telegram_id=tg, full_name=name)
            session.add(row)
            await session.flush()
        session.add(
            RoleGrant(
                person_id=row.id,
                role=role.value,
                district_id=district.id,
                village_kode=village,
                round_id=round_id if village else None,
            )
        )
        made[name] = row
    await session.flush()
    return made


async def test_revoke_sets_revoked_at_logs_and_tells(sessions, clock):
    district = await kendal(sessions, clock())
    rnd = await round_(sessions, district, clock())
    now = clock()
    async with sessions() as session, session.begin():
        made = await people_of(session, district, rnd.id)
        ani = made["Ani Blumah"]
        with pytest.raises(Invalid, match="reason_short"):
            await roles.revoke(session, district.id, ani, Role.PAKEM, "kurang", now)
        with pytest.raises(Invalid, match="no_such_role"):
            await roles.revoke(session, district.id, ani, Role.POKJA, "Bukan anggota POKJA.", now)
        done = await roles.revoke(
            session,
            district.id,
            ani,
            Role.PAKEM,
            "Pindah ke kota lain.",
            now,
            village_kode=BLUMAH,
            actor_label="cli",
        )
        assert (done.grants, done.notified) == (1, 1)
        view = await queries.person_view(session, ani)
        # Only Blumah's role went; Kediten's stays.
        assert [(g.role, g.village_kode) for g in view.grants] == [(Role.PAKEM, KEDITEN)]
        with pytest.raises(Invalid, match="no_such_role"):  # twice is refused
            await roles.revoke(
                session, district.id, ani, Role.PAKEM, "Pindah lagi.", now, village_kode=BLUMAH
            )
        entry = (
            await session.execute(select(AuditEntry).where(AuditEntry.action == "role.revoke"))
        ).scalar_one()
        detail = json.loads(entry.detail)
        assert entry.subject == f"person:{ani.id}" and entry.actor_label == "cli"
        assert detail["reason"] == "Pindah ke kota lain." and detail["villages"] == [BLUMAH]
        outbox = (await session.execute(select(Outbox))).scalars().all()
        assert [o.chat_id for o in outbox] == [ani.telegram_id]


async def test_revocable_is_asked_on_the_press(sessions, clock):
    district = await kendal(sessions, clock())
    rnd = await round_(sessions, district, clock())
    now = clock()
    async with sessions() as session, session.begin():
        made = await people_of(session, district, rnd.id)
        budi = await queries.person_view(session, made["Budi POKJA"])
        ira = await queries.person_view(session, made["Ira Admin"])
        grants = {
            (g.role, g.village_kode): g
            for g in (await session.execute(select(RoleGrant))).scalars()
        }
        pakem = grants[("pakem", BLUMAH)].id
        pokja = grants[("pokja", None)].id
        admin = grants[("admin", None)].id
        target = await roles.revocable(session, budi, pakem, now)
        assert (target.full_name, target.role, target.village_kode) == (
            "Ani Blumah",
            Role.PAKEM,
            BLUMAH,
        )
        with pytest.raises(NotAllowed):  # a POKJA member does not remove a colleague
            await roles.revocable(session, budi, pokja, now)
        assert (await roles.revocable(session, ira, pokja, now)).full_name == "Budi POKJA"
        with pytest.raises(NotAllowed):  # admin roles only through the CLI
            await roles.revocable(session, ira, admin, now)
        with pytest.raises(NotFound):
            await roles.revocable(session, ira, 10_000, now)
        # Budi handed out two links, one of them already used.
        links = [
            await people.invite_by(session, budi, district.id, Role.POKJA, now) for _i in range(2)
        ]
        newcomer = Person(telegram_id=99, full_name="Baru")
        session.add(newcomer)
        await session.flush()
        await people.redeem_invite(session, newcomer.id, links[0].code, now)
        done = await roles.revoke_in_bot(session, ira, pokja, "Tidak aktif lagi di POKJA.", now)
        assert done.full_name == "Budi POKJA"
        # A removed POKJA member's unused links no longer make anyone POKJA.
        with pytest.raises(Invalid, match="invite_expired"):
            await people.redeem_invite(session, newcomer.id, links[1].code, now)
        assert await roles_store.open_invites(session, budi.id, now) == 0
        with pytest.raises(NotFound):  # removed already
            await roles.revocable(session, ira, pokja, now)
        listed = await roles.members(session, ira, district.id, now)
        assert [m.full_name for m in listed[Role.POKJA]] == ["Baru"]  # Budi is gone
        assert [m.village_kode for m in listed[Role.PAKEM]] == [BLUMAH, KEDITEN]


async def test_removed_members_are_told_and_their_old_buttons_stop_working(
    bot, person, sessions, clock, emulator
):
    district = await kendal(sessions, clock())
    rid, ids, _oid = await seed_round(sessions, clock, district)
    await bot()
    ira, sari, ani = person("Ira Admin"), person("Sari POKJA"), person("Ani Blumah")
    await grant(ira, sessions, district, Role.ADMIN, clock())
    await grant(sari, sessions, district, Role.POKJA, clock())
    await grant(ani, sessions, district, Role.PAKEM, clock(), BLUMAH)

    # Before: Sari works the queue, Ani opens her home screen.
    await sari.send("/tinjau")
    assert "Buka KDL-2026-001" in sari.button_labels(), sari.reply_text
    queue_message = sari.last
    await ani.send("/start")
    ani_home = ani.last
    await ani.send("/baru")
    assert ani.saw("Draf baru dimulai")  # the wizard now waits for her title

    # Sari, as POKJA, removes Ani from Blumah's PAKEM through the round's villages view.
    await sari.send("/round")
    await sari.press("🏡 Desa")
    await sari.press("👥 Anggota")
    assert sari.saw("Ani Blumah") and not sari.saw("Ira Admin")  # POKJA is for admins
    await sari.press("✖ Keluarkan Ani Blumah")
    assert sari.saw("Mengapa Ani Blumah tidak lagi menjadi anggota PAKEM di")
    await sari.send("pendek")
    assert sari.saw("paling sedikit 10")
    await sari.send("Sudah pindah ke kota lain sejak Oktober.")
    assert sari.saw("✅ Ani Blumah bukan lagi anggota PAKEM")

    # Ira, the admin, removes Sari from the POKJA with /anggota.
    await ira.send("/anggota")
    assert ira.saw("Anggota POKJA") and ira.saw("Sari POKJA")
    await ira.press("✖ Keluarkan Sari POKJA")
    await ira.send("Tidak lagi bertugas di POKJA kabupaten.")
    assert ira.saw("✅ Sari POKJA bukan lagi anggota POKJA")

    await drained(sessions)
    told_ani = ani.chat[-1].text
    assert "Anda bukan lagi anggota PAKEM di" in told_ani
    assert "Sudah pindah ke kota lain sejak Oktober." in told_ani
    told_sari = sari.chat[-1].text
    assert "Anda bukan lagi anggota POKJA di Kabupaten Kendal" in told_sari
    assert "Tidak lagi bertugas di POKJA kabupaten." in told_sari

    # Their old buttons stop working at once.
    logged = len(await denied(sessions))
    await sari.press_data(queue_message, RevCb(action="o", id=ids["KDL-2026-001"]).pack())
    assert sari.saw("Hanya anggota POKJA")
    await sari.press_data(queue_message, QueueCb(round=rid).pack())
    assert sari.saw("Hanya anggota POKJA")
    await sari.send("/anggota")
    assert sari.saw("Hanya anggota POKJA")
    await ani.press_data(ani_home, "m:n")  # "📝 Usulan baru" on her old home screen
    assert ani.saw("PAKEM")
    await ani.send("Jalan RT 01")  # the title her draft was waiting for
    assert ani.saw("PAKEM") and not ani.saw("Jalan RT 01")
    async with sessions() as session:
        draft = (await session.execute(select(Proposal))).scalars().all()[-1]
        assert draft.status == "draft" and draft.title is None
    assert len(await denied(sessions)) == logged + 3

    # A forged "remove" by a non-admin is refused and logged; the audit names both removals.
    for grant_id in range(1, 5):
        await sari.press_data(queue_message, MemberCb(action="r", id=grant_id).pack())
        assert sari.saw("Hanya anggota POKJA") or sari.saw("Hanya admin"), sari.reply_text
    assert len(await denied(sessions)) == logged + 7
    async with sessions() as session:
        rows = (
            await session.execute(select(AuditEntry).where(AuditEntry.action == "role.revoke"))
        ).scalars()
        reasons = sorted(json.loads(r.detail)["reason"] for r in rows)
        assert reasons == [
            "Sudah pindah ke kota lain sejak Oktober.",
            "Tidak lagi bertugas di POKJA kabupaten.",
        ]
        revoked = (
            await session.execute(select(RoleGrant).where(RoleGrant.revoked_at.is_not(None)))
        ).scalars()
        assert sorted(g.role for g in revoked) == ["pakem", "pokja"]
    assert not emulator.refusals
