"""The deployment files agree with docs/deployment.md and with the repository: the Dockerfile's COPY
sources exist and its CMD is the documented production command; compose.yaml runs that image with
Redis, the configuration mounted where the command reads it and the secrets from the environment;
the systemd unit passes `systemd-analyze verify`; the example configuration is valid."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from om_bridge.bridge.config import load_config

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "deployment.md"
CONFIG_PLACEHOLDER = "/etc/om-bridge/om-bridge.toml"
PORT_PLACEHOLDER = "8080"
MARKER = "<!-- production-command:"


def production_command() -> list[str]:
    """The command of the block marked `<!-- production-command: … -->` in docs/deployment.md."""
    text = DOC.read_text(encoding="utf-8")
    assert text.count(MARKER) == 1, "docs/deployment.md marks exactly one production command"
    after = text.split(MARKER, 1)[1]
    block = re.search(r"```sh\n(.*?)\n```", after, re.S)
    assert block is not None and after.index("```") == block.start(), "the block follows the marker"
    lines = [ln for ln in block.group(1).splitlines() if ln.strip()]
    assert len(lines) == 1, "the production command is one line"
    argv = shlex.split(lines[0])
    assert CONFIG_PLACEHOLDER in argv and PORT_PLACEHOLDER in argv, "both placeholders are used"
    return argv


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    joined = re.sub(r"\\\n", " ", text)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


LOCK_IN_IMAGE = "/tmp/requirements.lock"
WHEELS_IN_IMAGE = "/wheels"


def dockerfile_install_steps() -> list[list[str]]:
    """The `pip` commands of the runtime stage's install RUN, in order, without `--no-cache-dir`
    (what tests/scenario/test_packaging.py runs against a fresh virtual environment)."""
    steps = dockerfile_instructions()
    runtime = steps[max(i for i, (w, _) in enumerate(steps) if w == "FROM") :]
    [run] = [rest for word, rest in runtime if word == "RUN" and "pip install" in rest]
    commands = [shlex.split(part) for part in run.split("&&")]
    return [
        [arg for arg in argv if arg != "--no-cache-dir"] for argv in commands if argv[0] == "pip"
    ]


def test_dockerfile_installs_the_lock_then_the_wheel_without_an_index():
    assert dockerfile_install_steps() == [
        ["pip", "install", "--require-hashes", "-r", LOCK_IN_IMAGE],
        ["pip", "install", "--no-index", "--find-links", WHEELS_IN_IMAGE, "om-bridge[redis]"],
        ["pip", "check"],
    ]
    copies = [rest for word, rest in dockerfile_instructions() if word == "COPY"]
    assert f"requirements.lock {LOCK_IN_IMAGE}" in copies


def test_dockerfile_copy_sources_exist():
    copies = [rest for word, rest in dockerfile_instructions() if word == "COPY"]
    assert copies
    for rest in copies:
        if rest.startswith("--from="):
            continue  # from the build stage
        *sources, _dest = shlex.split(rest)
        for source in sources:
            assert (ROOT / source).exists(), f"COPY source {source} is not in the repository"


def test_dockerfile_cmd_is_the_documented_production_command():
    cmds = [rest for word, rest in dockerfile_instructions() if word == "CMD"]
    assert json.loads(cmds[-1]) == production_command()


def test_dockerfile_runtime_stage_is_non_root_slim_python_with_a_healthcheck():
    steps = dockerfile_instructions()
    froms = [rest for word, rest in steps if word == "FROM"]
    assert all(f.startswith("python:3.11-slim") for f in froms)
    runtime = steps[max(i for i, (w, _) in enumerate(steps) if w == "FROM") :]
    users = [rest for word, rest in runtime if word == "USER"]
    assert users and users[-1] not in ("root", "0")
    installs = " ".join(rest for word, rest in runtime if word == "RUN")
    assert "om-bridge[redis]" in installs
    health = [rest for word, rest in runtime if word == "HEALTHCHECK"]
    assert health and "/healthz" in health[0] and ":8080/" in health[0]


def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))


def test_compose_runs_the_image_with_redis_and_the_mounted_configuration():
    services = compose()["services"]
    assert set(services) == {"bridge", "redis"}
    bridge = services["bridge"]
    assert bridge["build"] == "."
    assert "command" not in bridge, "the image's CMD (the production command) runs"
    mounts = [v.split(":") for v in bridge["volumes"]]
    assert any(m[1] == CONFIG_PLACEHOLDER for m in mounts), "the configuration is mounted"
    env = bridge["environment"]
    assert env["OM_BRIDGE_STORE"].startswith("redis://redis:")
    assert "redis" in bridge["depends_on"]
    assert any(p.endswith(":" + PORT_PLACEHOLDER) for p in bridge["ports"])
    assert "--appendonly" in services["redis"]["command"]
    # docker stop's SIGKILL must not cut gunicorn's graceful stop short.
    from om_bridge.bridge.serve import GUNICORN_DEFAULTS

    grace = re.fullmatch(r"(\d+)s", bridge["stop_grace_period"])
    assert grace and int(grace.group(1)) > GUNICORN_DEFAULTS["graceful_timeout"]


def test_compose_passes_every_secret_the_example_configuration_references():
    example = (ROOT / "deploy" / "om-bridge.example.toml").read_text(encoding="utf-8")
    needed = set(re.findall(r'= "env:([A-Z0-9_]+)"', example))
    assert needed
    env = compose()["services"]["bridge"]["environment"]
    for name in needed:
        assert name in env and str(env[name]).startswith("${"), name


def test_example_configuration_is_valid():
    environ = {"OM_WEBHOOK_SECRET": "w" * 20, "GENESYS_CLIENT_SECRET": "c" * 20}
    config = load_config(str(ROOT / "deploy" / "om-bridge.example.toml"), environ=environ)
    assert config.bridge.store.startswith("redis://")
    assert config.providers["genesys"].webhook_secret.reveal() == "w" * 20


def compose_command() -> list[str] | None:
    """`docker compose` (the plugin) or `docker-compose` (Debian's package), whichever runs."""
    candidates = [["docker", "compose"], ["docker-compose"]]
    for command in candidates:
        if shutil.which(command[0]) is None:
            continue
        probe = subprocess.run([*command, "version"], capture_output=True, text=True, timeout=30)
        if probe.returncode == 0:
            return command
    return None


def test_docker_compose_config_parses_the_file(tmp_path):
    """`compose config` parses and validates the file without a Docker engine."""
    command = compose_command()
    if command is None:
        pytest.skip(
            "neither `docker compose` nor `docker-compose` is installed "
            "(Debian package docker-compose; `config` parses only, no engine needed)"
        )
    copy = tmp_path / "compose.yaml"
    copy.write_text((ROOT / "compose.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "om-bridge.toml").write_text("", encoding="utf-8")
    env = {
        **os.environ,
        "OM_BRIDGE_PUBLIC_URL": "https://bridge.example.com",
        "GENESYS_CLIENT_SECRET": "x" * 20,
        "OM_WEBHOOK_SECRET": "x" * 20,
        "GENESYS_EVENTBRIDGE_HANDOVER_API_KEY": "x" * 20,
    }
    done = subprocess.run(
        [*command, "-f", str(copy), "config", "--quiet"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    # Without the required secrets compose refuses to start: nothing runs half-configured.
    del env["OM_WEBHOOK_SECRET"]
    done = subprocess.run(
        [*command, "-f", str(copy), "config", "--quiet"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode != 0 and "OM_WEBHOOK_SECRET" in done.stderr + done.stdout


def test_systemd_unit_verifies_and_runs_the_production_command(tmp_path):
    unit = (ROOT / "deploy" / "om-bridge.service").read_text(encoding="utf-8")
    exec_start = next(ln for ln in unit.splitlines() if ln.startswith("ExecStart="))
    argv = shlex.split(exec_start.removeprefix("ExecStart="))
    expected = production_command()
    expected[expected.index("--host") + 1] = "127.0.0.1"  # the proxy is on the same host
    assert [Path(argv[0]).name, *argv[1:]] == expected
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    om_bridge = shutil.which("om-bridge") or str(Path(sys.executable).with_name("om-bridge"))
    copy = tmp_path / "om-bridge.service"
    copy.write_text(unit.replace(argv[0], om_bridge), encoding="utf-8")
    done = subprocess.run(
        ["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


PACKAGE_FOLDERS = ("bridge", "sandbox", "extension", "schemas", "flows")


def test_every_package_folder_is_mapped_under_om_bridge():
    """pyproject.toml lists every folder of the five package folders as om_bridge.<folder path>
    (setuptools installs only the listed packages) and maps each top-level folder to its name."""
    import tomllib

    tool = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]
    assert tool["package-dir"] == {
        "om_bridge": "om_bridge",
        **{f"om_bridge.{top}": top for top in PACKAGE_FOLDERS},
    }
    folders = {"om_bridge"}
    for top in PACKAGE_FOLDERS:
        folders.add(f"om_bridge.{top}")
        for path in (ROOT / top).rglob("*"):
            rel = path.relative_to(ROOT)
            if path.is_dir() and "__pycache__" not in rel.parts and any(path.iterdir()):
                folders.add("om_bridge." + ".".join(rel.parts))
    assert set(tool["packages"]) == folders


def test_the_repository_holds_no_symbolic_links():
    """A checkout without symbolic links (core.symlinks=false) must build the same package."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-s"], capture_output=True, text=True, check=True
    ).stdout
    links = [line.split("\t", 1)[1] for line in listed.splitlines() if line.startswith("120000")]
    assert links == []
