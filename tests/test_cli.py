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
