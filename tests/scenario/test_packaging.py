"""The built wheel installs into a fresh venv beside distributions that take the generic import
names (extension, flows, schemas, bridge, sandbox) and works there: `--version`, `extension
export`, and the demo's smoke path. The wheel carries its package data and builds without a
warning. Everything is local: no network, the runtime dependencies come from the test venv."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
import requests

from tests.conftest import free_port, wait_for_http

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_FOLDERS = ("bridge", "sandbox", "extension", "schemas", "flows")
COLLIDING = ("extension", "flows", "schemas", "bridge", "sandbox")
NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "node_modules",
    "__pycache__",
    "*.pyc",
    ".*_cache",
    "build",
    "dist",
    "*.egg-info",
    ".om-bridge",
)


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment without anything that points Python or pip elsewhere."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PIP_", "PYTHON", "VIRTUAL_ENV")) or k == "PYTHONUNBUFFERED"
    }
    return {**env, "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1", **extra}


def _pip(*args: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "pip", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=_clean_env(),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _wheel(source: Path, out: Path) -> tuple[Path, str]:
    done = _pip(
        "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(out), str(source)
    )
    name = source.name.replace("-", "_")
    (wheel,) = [w for w in out.glob("*.whl") if w.name.lower().startswith(name.lower() + "-")]
    return wheel, done.stdout + done.stderr


def _fake_distribution(root: Path, name: str) -> Path:
    """A distribution named `name` whose top-level package `name` fails loudly when imported,
    so any import of the generic name (instead of om_bridge.<name>) breaks the run."""
    src = root / name
    (src / name).mkdir(parents=True)
    (src / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=77"]\nbuild-backend = "setuptools.build_meta"\n'
        f'[project]\nname = "{name}"\nversion = "9.9.9"\n'
        f'[tool.setuptools]\npackages = ["{name}"]\n'
    )
    (src / name / "__init__.py").write_text(
        f'raise ImportError("the unrelated distribution {name!r} was imported")\n'
    )
    return src


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict[str, Path]:
    """A fresh venv holding the om-bridge wheel and the colliding fakes (module-wide: slow)."""
    tmp = tmp_path_factory.mktemp("packaging")
    source = tmp / "om-bridge"
    shutil.copytree(ROOT, source, symlinks=True, ignore=NOT_SOURCE)
    wheels = tmp / "wheels"
    wheel, build_output = _wheel(source, wheels)
    fakes = [_wheel(_fake_distribution(tmp / "fakes", n), wheels)[0] for n in COLLIDING]

    venv = tmp / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
    )
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
        env=_clean_env(),
    ).stdout.strip()
    # om-bridge's runtime dependencies without network: the test venv's site-packages, after the
    # new venv's own (its .pth files, such as this checkout's editable install, are not read).
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(purelib, "zz_test_dependencies.pth").write_text("\n".join(sorted(deps)) + "\n")
    _pip(
        "--python", str(python), "install", "--no-deps", "--no-index", str(wheel), *map(str, fakes)
    )
    (tmp / "build-output.txt").write_text(build_output)
    return {
        "tmp": tmp,
        "venv": venv,
        "python": python,
        "purelib": Path(purelib),
        "wheel": wheel,
        "build_output": tmp / "build-output.txt",
    }


def _run(
    installed: dict[str, Path], *args: str, timeout: float = 120
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(installed["venv"] / "bin" / args[0]), *args[1:]],
        cwd=installed["tmp"],  # outside the repository: its source tree is not importable
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_clean_env(),
    )


def test_wheel_builds_without_warnings_and_carries_its_package_data(installed):
    output = installed["build_output"].read_text()
    assert "warning" not in output.lower(), output
    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    expected = {"om_bridge/__init__.py", "om_bridge/__main__.py", "om_bridge/py.typed"}
    for folder in PACKAGE_FOLDERS:
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                expected.add(f"om_bridge/{path.relative_to(ROOT).as_posix()}")
    assert expected - names == set()
    for data in (
        "om_bridge/bridge/static/webchat.js",
        "om_bridge/bridge/templates/webchat.html",
        "om_bridge/sandbox/static/console.html",
        "om_bridge/schemas/config.json",
        "om_bridge/schemas/nodes/handoverV2.json",
        "om_bridge/flows/demo-bot.json",
    ):
        assert data in names
    version = metadata.version("om-bridge")
    assert f"om_bridge-{version}.dist-info/licenses/LICENSE" in names
    # only om_bridge at the top level: nothing that collides with other distributions
    assert {n.split("/")[0] for n in names} == {"om_bridge", f"om_bridge-{version}.dist-info"}


def test_installed_wheel_runs_beside_the_colliding_distributions(installed):
    code = (
        "import importlib.util, json, sys, om_bridge\n"
        "fakes = {n: importlib.util.find_spec(n).origin for n in sys.argv[1:]}\n"
        "print(json.dumps({'om_bridge': om_bridge.__file__, 'fakes': fakes}))"
    )
    probe = _run(installed, "python", "-c", code, *COLLIDING)
    assert probe.returncode == 0, probe.stderr
    found = json.loads(probe.stdout)
    purelib = installed["purelib"]
    assert Path(found["om_bridge"]).is_relative_to(purelib), found
    assert not Path(found["om_bridge"]).resolve().is_relative_to(ROOT)
    for name in COLLIDING:  # the fakes are what `import <name>` finds there
        assert Path(found["fakes"][name]) == purelib / name / "__init__.py"

    version = _run(installed, "om-bridge", "--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout == f"om-bridge {metadata.version('om-bridge')}\n"

    export = _run(installed, "om-bridge", "extension", "export")
    assert export.returncode == 0, export.stderr
    descriptors = json.loads(export.stdout)
    assert isinstance(descriptors, list) and descriptors
    assert all(isinstance(d, dict) and d.get("type") for d in descriptors)


def test_installed_demo_answers_and_stops_cleanly(installed):
    port, sandbox_port = free_port(), free_port()
    proc = subprocess.Popen(
        [
            str(installed["venv"] / "bin" / "om-bridge"),
            "demo",
            "--port",
            str(port),
            "--sandbox-port",
            str(sandbox_port),
            "--data-dir",
            str(installed["tmp"] / "demo-data"),
        ],
        cwd=installed["tmp"],
        env=_clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{base}/readyz", timeout=60)
        assert requests.get(f"{base}/readyz", timeout=30).status_code == 200
        reply = requests.post(
            f"{base}/endpoint/demo",
            json={"userId": "u-wheel", "sessionId": "s-wheel", "text": "hello"},
            timeout=30,
        )
        assert reply.status_code == 200, reply.text
        answer = reply.json()
        assert answer["text"] and answer["outputStack"], answer
        assert requests.get(f"{base}/", timeout=10).status_code == 200  # templates + static
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            _out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            _out, err = proc.communicate()
    assert proc.returncode == 0, err
    assert "Traceback" not in err, err
