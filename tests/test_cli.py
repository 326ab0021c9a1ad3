"""The `cocreate` command: migrate, seed-demo, create-user and import-cities on a real database file.

These run outside the per-test transaction, on a database file of their own.
"""

import socket
import subprocess
import sys
import time

import httpx
import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.core.config import PACKAGE_DATA_DIR

runner = CliRunner()
HEADER = "network,name_en,name_local,country_code,region,role,latitude,longitude\n"


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    for name in ("COCREATE_ENV", "COCREATE_SECRET_KEY", "COCREATE_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COCREATE_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(cli, ["migrate"])
    assert result.exit_code == 0, result.output
    return tmp_path


def test_seed_demo_is_idempotent_and_prints_demo_accounts(cli_env):
    first = runner.invoke(cli, ["seed-demo", "--if-empty"])
    assert first.exit_code == 0, first.output
    assert "20 cities added" in first.output and "admin@example.org" in first.output
    second = runner.invoke(cli, ["seed-demo", "--if-empty"])
    assert "already has data" in second.output
    assert "Demo workspaces: porto-campanha-green-corridor, shenzhen-sponge-city-pilot" in first.output
    third = runner.invoke(cli, ["seed-demo"])
    assert "0 cities added, 0 updated" in third.output
    assert "Demo workspaces" not in third.output


def test_import_cities_reports_and_is_idempotent(cli_env):
    csv_file = cli_env / "cities.csv"
    csv_file.write_text(
        HEADER + "nscjl,Hefei,合肥市,CN,Anhui,member,31.82,117.22\nnscjl,Bad,,CN,,member,1,999\n",
        encoding="utf-8",
    )
    result = runner.invoke(cli, ["import-cities", str(csv_file)])
    assert result.exit_code == 1
    assert "Cities: 1 added" in result.output
    assert "line 3:" in result.output and "longitude “999”" in result.output
    again = runner.invoke(cli, ["import-cities", str(csv_file)])
    assert "Cities: 0 added, 0 updated, 1 unchanged" in again.output


def test_import_all_chinese_prefecture_cities(cli_env):
    source = (PACKAGE_DATA_DIR / "china_prefecture_cities.csv").read_text(encoding="utf-8").splitlines()[1:]
    rows = []
    for line in source:
        _code, name_en, name_zh, province_en, _pzh, lat, lng = line.split(",")
        rows.append(f"nscjl,{name_en},{name_zh},CN,{province_en},member,{lat},{lng}")
    csv_file = cli_env / "china.csv"
    csv_file.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    result = runner.invoke(cli, ["import-cities", str(csv_file)])
    assert result.exit_code == 0, result.output
    # Five English names repeat (Suzhou in Jiangsu and in Anhui, ...): each is still its own city.
    assert f"Cities: {len(rows)} added" in result.output


def test_import_cities_refuses_a_file_missing_columns(cli_env):
    csv_file = cli_env / "bad.csv"
    csv_file.write_text("network,name_en\nnscjl,Hefei\n", encoding="utf-8")
    result = runner.invoke(cli, ["import-cities", str(csv_file)])
    assert result.exit_code == 1 and "Columns missing" in result.output


def test_create_user_with_role_and_bad_password(cli_env):
    ok = runner.invoke(
        cli,
        [
            "create-user",
            "Boss@Example.org",
            "--name",
            "Boss",
            "--role",
            "admin",
            "--password",
            "a long admin phrase",
        ],
    )
    assert ok.exit_code == 0 and "Created admin boss@example.org" in ok.output
    taken = runner.invoke(cli, ["create-user", "boss@example.org", "--password", "another long phrase"])
    assert taken.exit_code == 1 and "already exists" in taken.output
    weak = runner.invoke(cli, ["create-user", "new@example.org", "--password", "password"])
    assert weak.exit_code == 1 and "password:" in weak.output


def test_migrate_downgrade_then_upgrade(cli_env):
    down = runner.invoke(cli, ["migrate", "downgrade", "--revision", "base"])
    assert down.exit_code == 0, down.output
    up = runner.invoke(cli, ["migrate", "upgrade"])
    assert up.exit_code == 0, up.output


def test_production_without_secret_key_refuses_to_start(tmp_path):
    env = {"COCREATE_ENV": "production", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", "from app.cli import main; main()", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 2
    assert "COCREATE_SECRET_KEY must be set" in result.stderr


def test_seed_demo_in_a_fresh_process(tmp_path):
    """A new process knows only what the command imports: every table must still be there."""
    env = {
        "COCREATE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}",
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
    }
    for command in ("migrate", "seed-demo"):
        result = subprocess.run(
            [sys.executable, "-c", "from app.cli import main; main()", command],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
            check=False,
        )
        assert result.returncode == 0, result.stderr[-2000:]
    assert "Demo workspaces" in result.stdout


@pytest.mark.parametrize(("environment", "logged"), [("development", True), ("production", False)])
def test_serve_logs_a_line_per_request_only_in_development(tmp_path, environment, logged):
    """In production a busy room's requests are not each written to the log; errors still are."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        "COCREATE_ENV": environment,
        "COCREATE_SECRET_KEY": "a-long-secret-key-for-this-test-only-0123456789",
        "COCREATE_BASE_URL": f"http://127.0.0.1:{port}",
        "COCREATE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
    }
    command = [sys.executable, "-c", "from app.cli import main; main()"]
    subprocess.run([*command, "migrate"], env=env, cwd=tmp_path, capture_output=True, timeout=120, check=True)
    server = subprocess.Popen(
        [*command, "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
    finally:
        server.terminate()
        log, _ = server.communicate(timeout=30)
    assert "Application startup complete" in log
    assert ('"GET /healthz HTTP/1.1" 200' in log) is logged, log[-2000:]
