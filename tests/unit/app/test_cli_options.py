"""The `om-bridge` command line: every option documented with its default, `--version`, and a
clear start-up error when the Redis store is configured without the `redis` extra."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
import tomli_w

import om_bridge
from om_bridge.bridge import cli
from om_bridge.bridge.app import StartupError, load_settings
from om_bridge.bridge.demo import demo_config, demo_environ
from om_bridge.bridge.store import StoreError, open_store
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[3]
REDIS_HINT = "pip install 'om-bridge[redis]'"


def _commands(
    parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    found = [(prefix, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _commands(sub, (*prefix, name))
    return found


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_every_option_of_every_command_has_help_and_shows_its_default():
    commands = _commands(cli.build_parser())
    assert {c for c, _ in commands} >= {
        (),
        ("serve",),
        ("demo",),
        ("sandbox",),
        ("listener",),
        ("check",),
        ("provision",),
        ("extension",),
        ("extension", "build"),
        ("extension", "export"),
    }
    checked = 0
    for command, parser in commands:
        shown = _flat(parser.format_help())
        for action in parser._actions:
            if not action.option_strings or action.dest in ("help", "version"):
                continue
            where = f"om-bridge {' '.join(command)} {action.option_strings[0]}"
            assert action.help, f"{where} has no help text"
            if isinstance(action.default, bool) or action.default == []:
                continue  # an on/off flag, off unless given; a repeatable option, none by default
            if action.default is None or "(default: " in action.help:
                assert "(default: " in action.help, f"{where} does not say what its absence does"
                assert _flat(action.help) in shown and shown.count("(default: ") >= 1
            else:
                assert f"(default: {action.default})" in shown, f"{where} hides its default"
            checked += 1
    assert checked >= 15


def test_help_cites_no_internal_section_number():
    """The help a new user reads says what the tool does; it points at no design-document
    section (§N) of the repository."""
    for command, parser in _commands(cli.build_parser()):
        text = parser.format_help()
        assert "§" not in text, f"om-bridge {' '.join(command)} --help cites a section: {text}"
    assert "Genesys Cloud" in _flat(cli.build_parser().format_help())


def test_version_is_the_installed_distribution_version():
    expected = metadata.version("om-bridge")
    assert om_bridge.__version__ == expected
    done = subprocess.run(
        [sys.executable, "-m", "om_bridge", "--version"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"om-bridge {expected}\n"


@pytest.fixture
def without_redis(monkeypatch):
    """As if the `redis` distribution were not installed: `import redis` raises ImportError."""
    monkeypatch.setitem(sys.modules, "redis", None)
    for name in [m for m in sys.modules if m.startswith("om_bridge.bridge.store.redis_")]:
        monkeypatch.delitem(sys.modules, name)


def _redis_config(tmp_path) -> Path:
    config = demo_config("http://127.0.0.1:8080", "http://127.0.0.1:8081", tmp_path)
    config["bridge"]["store"] = "redis://127.0.0.1:6379/0"
    path = tmp_path / "om-bridge.toml"
    path.write_text(tomli_w.dumps(config))
    return path


def test_redis_store_without_the_redis_extra_fails_start_up_naming_the_extra(
    tmp_path, without_redis
):
    with pytest.raises(StoreError, match=re.escape(REDIS_HINT)):
        open_store("redis://127.0.0.1:6379/0")
    path = _redis_config(tmp_path)
    with pytest.raises(StartupError, match=re.escape(REDIS_HINT)):
        load_settings({"config_path": str(path), "environ": demo_environ()})


def test_serve_refuses_the_redis_store_without_the_extra_before_serving(tmp_path):
    path = _redis_config(tmp_path)
    # A process in which `import redis` fails, as where the extra is not installed.
    code = (
        "import sys; sys.modules['redis'] = None\n"
        "from om_bridge.bridge.cli import main\n"
        "sys.exit(main(sys.argv[1:]))"
    )
    args = ["serve", "--config", str(path), "--port", str(free_port())]
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=tmp_path,
        env={**os.environ, **demo_environ()},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:  # it started serving instead of refusing
        proc.kill()
        _out, err = proc.communicate()
    assert proc.returncode == 2, err
    assert "cannot start" in err and REDIS_HINT in err
    assert "Traceback" not in err


def test_sqlite_store_needs_no_redis(tmp_path, without_redis):
    config = demo_config("http://127.0.0.1:8080", "http://127.0.0.1:8081", tmp_path)
    path = tmp_path / "om-bridge.toml"
    path.write_text(tomli_w.dumps(config))
    loaded, _flags, _env = load_settings({"config_path": str(path), "environ": demo_environ()})
    assert loaded.bridge.store.startswith("sqlite://")
