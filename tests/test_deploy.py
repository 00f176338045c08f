"""The deployment files: the compose file (docker compose config when docker works, else parsed
and checked here), the Caddyfile's routing, the systemd unit and the Dockerfile."""

from __future__ import annotations

import configparser
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
BOTS = ("bot1", "bot2")
WEB_PORT = "8080"
WEBHOOK_PATH = "/telegram"
ENV = {
    "DOMAIN": "paket.example.org",
    "BOT_TOKEN": "123456789:" + "A" * 35,
    "POSTGRES_PASSWORD": "pw",
}


def docker_compose_works() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        found = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return found.returncode == 0


def compose() -> dict[str, Any]:
    """The resolved model: docker compose's own when available, else the file itself."""
    if docker_compose_works():
        done = subprocess.run(
            ["docker", "compose", "-f", str(COMPOSE), "config", "--format", "json"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, **ENV},
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def model() -> dict[str, Any]:
    return compose()


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def test_services(model: dict[str, Any]) -> None:
    services = model["services"]
    assert {"postgres", "caddy", *BOTS} <= set(services)
    assert "redis" not in services  # conversation state is in the database
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["caddy"]["image"].startswith("caddy:")
    for name in BOTS:
        assert services[name].get("image") == "paket-bot:latest"
        assert services[name]["build"]["context"] in ("..", str(ROOT))


@pytest.mark.parametrize("name", BOTS)
def test_each_bot_gets_its_variables(model: dict[str, Any], name: str) -> None:
    bot = model["services"][name]
    env = environment(bot)
    assert {
        "BOT_TOKEN",
        "DATABASE_URL",
        "WEBHOOK_URL",
        "WEBHOOK_SECRET",
        "WEB_HOST",
        "WEB_PORT",
    } <= set(env)
    assert env["DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert "@postgres:5432/" in env["DATABASE_URL"]
    assert env["WEBHOOK_URL"].startswith("https://")
    assert env["WEBHOOK_URL"].endswith(WEBHOOK_PATH)
    assert env["WEB_PORT"] == WEB_PORT
    # Beyond loopback inside the container, or Caddy cannot reach it; but never published.
    assert env["WEB_HOST"] == "0.0.0.0"
    assert "ports" not in bot
    assert bot["command"] in (["paket-bot", "run"], "paket-bot run")
    assert bot.get("restart") == "unless-stopped"
    deps = bot["depends_on"]
    assert deps["postgres"]["condition"] == "service_healthy"
    assert deps["migrate"]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("name", BOTS)
def test_each_bot_is_health_checked_on_healthz(model: dict[str, Any], name: str) -> None:
    check = model["services"][name]["healthcheck"]
    test = " ".join(check["test"]) if isinstance(check["test"], list) else check["test"]
    assert f"http://127.0.0.1:{WEB_PORT}/healthz" in test
    assert check["interval"] and check["retries"] >= 1


def test_the_bots_are_configured_alike(model: dict[str, Any]) -> None:
    one, two = (model["services"][name] for name in BOTS)
    assert environment(one) == environment(two)


def test_databases_are_health_checked_and_kept(model: dict[str, Any]) -> None:
    services = model["services"]
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert any("/var/lib/postgresql/data" in str(v) for v in services["postgres"]["volumes"])
    assert environment(services["postgres"])["POSTGRES_DB"] == "paket"


def test_migrations_run_once_before_the_bots(model: dict[str, Any]) -> None:
    migrate = model["services"]["migrate"]
    assert migrate["command"] in (["paket-bot", "db", "upgrade"], "paket-bot db upgrade")
    assert (
        environment(migrate)["DATABASE_URL"]
        == environment(model["services"]["bot1"])["DATABASE_URL"]
    )


def test_the_proxy_serves_https_and_keeps_its_certificates(model: dict[str, Any]) -> None:
    caddy = model["services"]["caddy"]
    published = {
        str(p).split(":")[-1] if not isinstance(p, dict) else str(p["target"])
        for p in caddy["ports"]
    }
    assert {"80", "443"} <= published
    mounts = " ".join(str(v) for v in caddy["volumes"])
    assert "Caddyfile" in mounts and "/data" in mounts
    assert "DOMAIN" in environment(caddy)


def test_required_variables_are_demanded_not_defaulted() -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    for name in ("BOT_TOKEN", "POSTGRES_PASSWORD", "DOMAIN"):
        assert re.search(r"\$\{" + name + r":\?", text), f"{name} must be required"
    example = (DEPLOY / "example.env").read_text(encoding="utf-8")
    for name in ("BOT_TOKEN", "POSTGRES_PASSWORD", "DOMAIN", "WEBHOOK_SECRET"):
        assert re.search(rf"^{name}=", example, re.M), f"example.env lacks {name}"


# -- Caddyfile -------------------------------------------------------------------------------


def caddy_blocks(text: str) -> list[tuple[str, str]]:
    """(matcher line, body) of each `handle` block, by brace counting."""
    lines = [line.split("#", 1)[0].rstrip() for line in text.splitlines()]
    blocks, i = [], 0
    while i < len(lines):
        line = lines[i].strip()
        if line.startswith("handle") and line.endswith("{"):
            depth, body = 1, []
            i += 1
            while depth:
                depth += lines[i].count("{") - lines[i].count("}")
                body.append(lines[i].strip())
                i += 1
            blocks.append((line, "\n".join(body)))
            continue
        i += 1
    return blocks


def test_caddy_routes_the_webhook_to_both_bots() -> None:
    blocks = caddy_blocks((DEPLOY / "Caddyfile").read_text(encoding="utf-8"))
    (webhook,) = [body for head, body in blocks if WEBHOOK_PATH in head.split()]
    proxy = next(line for line in webhook.splitlines() if line.startswith("reverse_proxy"))
    upstreams = proxy.removeprefix("reverse_proxy").strip(" {").split()
    assert sorted(upstreams) == sorted(f"{bot}:{WEB_PORT}" for bot in BOTS)
    assert "health_uri /healthz" in webhook
    assert "lb_policy" in webhook


def test_caddy_exposes_nothing_but_the_webhook() -> None:
    text = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    blocks = caddy_blocks(text)
    heads = [head.split() for head, _ in blocks]
    assert ["handle", WEBHOOK_PATH, "{"] in heads
    assert ["handle", "{"] in heads
    fallback = next(body for head, body in blocks if head.split() == ["handle", "{"])
    assert "respond 404" in fallback and "reverse_proxy" not in fallback
    assert "{$DOMAIN}" in text  # the site address: Caddy fetches its certificate for it


# -- systemd ---------------------------------------------------------------------------------


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((DEPLOY / "paket-bot.service").read_text(encoding="utf-8"))
    return parser


def test_systemd_unit() -> None:
    parsed = unit()
    assert set(parsed.sections()) == {"Unit", "Service", "Install"}
    service = parsed["Service"]
    assert service["Restart"] == "on-failure"
    assert service["User"] == "paket" and service["User"] != "root"
    assert service["EnvironmentFile"].startswith("/etc/")
    assert service["WorkingDirectory"] == "/var/lib/paket-bot"
    assert service["ExecStart"].split()[-1] == "run"
    assert service["ExecStart"].split()[0].endswith("/paket-bot")
    assert service["ReadWritePaths"] == service["WorkingDirectory"]
    assert "network-online.target" in parsed["Unit"]["After"]
    assert parsed["Install"]["WantedBy"] == "multi-user.target"


def test_dockerfile_installs_the_project_and_runs_unprivileged() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.1[1-9]", text, re.M)
    assert "pip install ." in text
    assert re.search(r"^USER paket$", text, re.M)
    assert 'CMD ["paket-bot", "run"]' in text
    for folder in ("bot", "handlers", "storage", "locales"):
        assert f"COPY {folder} " in text


@pytest.mark.skipif(shutil.which("caddy") is None, reason="caddy is not installed")
def test_caddy_itself_accepts_the_caddyfile() -> None:
    done = subprocess.run(
        ["caddy", "validate", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "DOMAIN": ENV["DOMAIN"]},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
