"""The operator's command line, run as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.emulator.server import START_PARAMETER_RE, Emulator
from tests.seed import KENDAL_CSV

ROOT = Path(__file__).resolve().parents[1]


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in ("BOT_TOKEN", "DATABASE_URL", "DEFAULT_LOCALE")
    }
    environment.update(
        {
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
            "PYTHONPATH": str(ROOT),
            **env,
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_district_from_scratch(tmp_path: Path) -> None:
    out = run(tmp_path, "regions", "import", str(KENDAL_CSV), "--prefix", "KDL")
    assert out.returncode == 0, out.stderr
    assert "Diimpor Kabupaten Kendal (33.24): 20 kecamatan, 286 desa dan kelurahan." in out.stdout
    out = run(
        tmp_path,
        "round",
        "open",
        "--name",
        "Tahap 1 2030",
        "--submission-deadline",
        "2030-12-31",
        "--ceiling",
        "500 juta",
        "--villages",
        "33.24.01.2001,33.24.01.2002",
    )
    assert out.returncode == 0, out.stderr
    assert "pengajuan sampai 2030-12-31 23:59 WIB" in out.stdout
    out = run(
        tmp_path,
        "invite",
        "--role",
        "pakem",
        "--village",
        "33.24.01.2001",
        BOT_USERNAME="paket_kendal_bot",
    )
    assert out.returncode == 0, out.stderr
    link, command = out.stdout.splitlines()[1:3]
    assert link.startswith("https://t.me/paket_kendal_bot?start=")
    assert command == "/start " + link.rsplit("=", 1)[1]
    assert START_PARAMETER_RE.fullmatch(link.rsplit("=", 1)[1])  # what the apps pass on
    out = run(tmp_path, "invite", "--role", "pokja", BOT_USERNAME="@paket_kendal_bot")
    assert out.returncode == 0 and "/start " in out.stdout
    [link] = [line for line in out.stdout.splitlines() if "t.me" in line]
    emulator = Emulator()
    emulator.bot_username = "paket_kendal_bot"
    assert emulator.start_text(link) == "/start " + link.rsplit("=", 1)[1]
    out = run(tmp_path, "people")
    assert out.returncode == 0 and "Belum ada yang menulis" in out.stdout
    out = run(tmp_path, "db", "upgrade")
    assert out.returncode == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("invite", "--role", "pakem"), "Belum ada kabupaten"),
        (("round", "open", "--name", "x", "--submission-deadline", "soon"), "Belum ada kabupaten"),
        (("regions", "import", "/no/such.csv"), "Tidak bisa membaca /no/such.csv"),
        (("run",), "BOT_TOKEN belum diisi"),
    ],
)
def test_clear_one_line_errors(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    out = run(tmp_path, *args)
    assert out.returncode == 1
    assert message in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_bad_arguments_and_config(tmp_path: Path) -> None:
    assert run(tmp_path, "round", "open").returncode == 2
    assert run(tmp_path, "invite", "--role", "mayor").returncode == 2
    out = run(tmp_path, "run", BOT_TOKEN="123:abc")
    assert out.returncode == 1 and "BOT_TOKEN tidak sah" in out.stderr
    out = run(
        tmp_path,
        "run",
        BOT_TOKEN="123456:" + "A" * 35,
        DATABASE_URL="postgresql+asyncpg://nobody@127.0.0.1:1/none",
    )
    assert out.returncode == 1 and "tidak bisa dihubungi" in out.stderr
    assert "Traceback" not in out.stderr
    out = run(tmp_path, "db", "upgrade", TIMEZONE="Mars/Base")
    assert out.returncode == 1 and "TIMEZONE" in out.stderr
    for args in ((), ("round",), ("invite",)):
        assert "usage" in run(tmp_path, *args, "--help").stdout


def test_round_and_invite_refusals(tmp_path: Path) -> None:
    run(tmp_path, "regions", "import", str(KENDAL_CSV))
    out = run(tmp_path, "round", "open", "--name", "x", "--submission-deadline", "2001-01-01")
    assert out.returncode == 1 and "harus di masa depan" in out.stderr
    out = run(
        tmp_path,
        "round",
        "open",
        "--name",
        "x",
        "--submission-deadline",
        "2030-01-01",
        "--ceiling",
        "banyak",
    )
    assert out.returncode == 1 and "Pagu 'banyak' tidak terbaca" in out.stderr
    out = run(tmp_path, "invite", "--role", "pakem", "--village", "33.24.01.2001")
    assert out.returncode == 1 and "tidak ada tahap yang dibuka" in out.stderr
    english = run(
        tmp_path, "invite", "--role", "pakem", "--village", "33.24.01.2001", DEFAULT_LOCALE="en"
    )
    assert "no round is open for submissions" in english.stderr


def test_a_second_district_gets_a_free_prefix_or_a_suggestion(tmp_path: Path) -> None:
    out = run(tmp_path, "regions", "import", str(KENDAL_CSV), "--prefix", "KND")
    assert out.returncode == 0 and "KND-TAHUN-001" in out.stdout
    other = tmp_path / "kendari.csv"  # Kota Kendari's default prefix would be KND too
    other.write_text(
        "kode,nama,tingkat\n74.71,Kota Kendari,kota\n74.71.01,Mandonga,kecamatan\n"
        "74.71.01.1001,Mandonga,kelurahan\n",
        encoding="utf-8",
    )
    out = run(tmp_path, "regions", "import", str(other), "--prefix", "knd")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines() == [
        "paket-bot: kabupaten atau kota lain sudah memakai KND untuk nomor usulannya: "
        "pilih --prefix lain, misalnya KNR"
    ]
    out = run(tmp_path, "regions", "import", str(other), "--prefix", "K-1", DEFAULT_LOCALE="en")
    assert out.returncode == 1 and "--prefix must be 2 to 8 letters or digits" in out.stderr
    out = run(tmp_path, "regions", "import", str(other))
    assert out.returncode == 0, out.stderr
    assert "Diimpor Kota Kendari (74.71)" in out.stdout and "KNR-TAHUN-001" in out.stdout


def test_round_reminder_offsets(tmp_path: Path) -> None:
    run(tmp_path, "regions", "import", str(KENDAL_CSV))
    base = ("round", "open", "--name", "x", "--submission-deadline", "2030-01-01")
    out = run(tmp_path, *base, "--reminders", "7x")
    assert out.returncode == 1 and "--reminders berbentuk 7d,3d,1d,3h" in out.stderr
    out = run(tmp_path, *base, "--reminders", "2d, 5h")
    assert out.returncode == 0, out.stderr


def redeem(tmp_path: Path, telegram_id: int, name: str, username: str, code: str) -> None:
    """The person opens the invite link in the bot (the domain call the bot makes)."""
    import asyncio

    from bot.people import ensure_person, redeem_invite
    from storage.db import create_engine, session_factory
    from storage.types import utcnow

    async def work() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
        async with session_factory(engine)() as session, session.begin():
            row = await ensure_person(session, telegram_id, name, username, "id", utcnow())
            await redeem_invite(session, row.id, code, utcnow())
        await engine.dispose()

    asyncio.run(work())


def read(tmp_path: Path, sql: str) -> list[tuple]:
    import sqlite3

    with sqlite3.connect(tmp_path / "cli.db") as db:
        return db.execute(sql).fetchall()


def test_revoke_a_role(tmp_path: Path) -> None:
    run(tmp_path, "regions", "import", str(KENDAL_CSV), "--prefix", "KDL")
    run(tmp_path, "round", "open", "--name", "T1", "--submission-deadline", "2030-12-31")
    codes = {}
    for role, extra in (("pakem", ("--village", "33.24.01.2001")), ("pokja", ())):
        out = run(tmp_path, "invite", "--role", role, *extra)
        assert out.returncode == 0, out.stderr
        codes[role] = out.stdout.strip().splitlines()[-1].removeprefix("/start ")
    redeem(tmp_path, 555001, "Ani Blumah", "ani_blumah", codes["pakem"])
    redeem(tmp_path, 555002, "Budi POKJA", "budi", codes["pokja"])
    reason = ("--reason", "Pindah ke kota lain.")

    out = run(tmp_path, "revoke", "--person", "555001", "--role", "pakem", *reason)
    assert out.returncode == 0, out.stderr
    assert "Dicabut: Ani Blumah bukan lagi pakem (1 pemberian peran)" in out.stdout
    out = run(tmp_path, "revoke", "--person", "@BUDI", "--role", "pokja", *reason)
    assert out.returncode == 0 and "Budi POKJA bukan lagi pokja" in out.stdout

    assert read(tmp_path, "SELECT count(*) FROM rolegrant WHERE revoked_at IS NULL") == [(0,)]
    audit = read(tmp_path, "SELECT actor_label, subject FROM auditentry WHERE action='role.revoke'")
    assert [a[0] for a in audit] == ["cli", "cli"]
    told = read(tmp_path, "SELECT chat_id, status FROM outbox ORDER BY id")
    assert told == [(555001, "pending"), (555002, "pending")]  # the bot delivers them
    people = run(tmp_path, "people").stdout
    assert "pakem" not in people and "pokja" not in people and "warga" in people


REVOKE_REFUSALS = [
    (("--person", "999", "--role", "pokja"), "Belum ada orang dengan id Telegram"),
    (("--person", "@nobody", "--role", "pokja"), "Belum ada orang dengan id Telegram"),
    (("--person", "555001", "--role", "pokja"), "tidak memegang peran pokja"),
    (("--person", "555001", "--role", "admin"), "tidak memegang peran admin"),
    (
        ("--person", "555001", "--role", "pakem", "--village", "33.24.01.2002"),
        "tidak memegang peran pakem",
    ),
    (("--person", "555001", "--role", "pakem", "--reason", "x"), "paling sedikit 10"),
    (("--person", "555001", "--role", "pakem", "--district", "99.99"), "99.99"),
]


def test_revoke_refusals(tmp_path: Path) -> None:
    run(tmp_path, "regions", "import", str(KENDAL_CSV))
    run(tmp_path, "round", "open", "--name", "T1", "--submission-deadline", "2030-12-31")
    out = run(tmp_path, "invite", "--role", "pakem", "--village", "33.24.01.2001")
    redeem(tmp_path, 555001, "Ani", "ani", out.stdout.strip().splitlines()[-1][7:])
    for args, message in REVOKE_REFUSALS:
        if "--reason" not in args:
            args = (*args, "--reason", "Alasan yang cukup panjang.")
        out = run(tmp_path, "revoke", *args)
        assert out.returncode == 1, (args, out.stdout)
        assert message in out.stderr and "Traceback" not in out.stderr, (args, out.stderr)
        assert len(out.stderr.strip().splitlines()) == 1
    assert read(tmp_path, "SELECT count(*) FROM rolegrant WHERE revoked_at IS NULL") == [(1,)]


def test_revoke_usage(tmp_path: Path) -> None:
    assert "--reason" in run(tmp_path, "revoke", "--help").stdout
    assert run(tmp_path, "revoke", "--person", "1", "--role", "pokja").returncode == 2
    mayor = run(tmp_path, "revoke", "--person", "1", "--role", "mayor", "--reason", "x")
    assert mayor.returncode == 2
