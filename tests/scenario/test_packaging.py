"""A clean install works: the wheel built from the source tree, installed with the lock file into
a virtual environment that does not see the test environment's packages, by the Dockerfile's own
install steps (the lock with hashes, then the wheel with no index, then `pip check`).

From that environment, outside the repository: `om-bridge serve` (the documented production
command) against the Genesys Cloud sandbox over HTTPS, verifying its certificate through
REQUESTS_CA_BUNDLE, hands a user over to an agent and back; `om-bridge listener` subscribes to an
open handover's conversation over HTTPS and wss://; both stop on SIGTERM without a traceback,
`Exception ignored` or `MonkeyPatchWarning` in their output. Also: the wheel carries every module
and data file and builds without a warning, it installs beside distributions that take the
generic import names, and the demo answers.

Offline: the lock's wheels come from the wheelhouse `make wheelhouse` (part of `make test`) fills
(`<test venv>/wheelhouse`, or $OM_BRIDGE_WHEELHOUSE); only when it lacks one does this download
from the package index.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest
import requests

from om_bridge.bridge.config import write_config
from om_bridge.bridge.demo import demo_config, demo_environ, sandbox_demo_config
from om_bridge.bridge.store import Handover, SessionKey, open_store
from om_bridge.sandbox.server import SandboxServer
from tests.conftest import free_port, wait_for_http, wait_until
from tests.scenario.harness import FAST_SANDBOX, HOST, merge
from tests.scenario.process_story import hand_over_and_back
from tests.tlsca import TLSFiles, bridge_environ
from tests.unit.test_deployment_files import (
    CONFIG_PLACEHOLDER,
    LOCK_IN_IMAGE,
    PORT_PLACEHOLDER,
    WHEELS_IN_IMAGE,
    dockerfile_install_steps,
    production_command,
)

# The module's set-up (wheel, venv, installs) counts against its first test's timeout: on a busy
# machine it takes minutes.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.lock"
WHEELHOUSE = Path(os.environ.get("OM_BRIDGE_WHEELHOUSE") or Path(sys.prefix) / "wheelhouse")
PACKAGE_FOLDERS = ("bridge", "sandbox", "extension", "schemas", "flows")
COLLIDING = ("extension", "flows", "schemas", "bridge", "sandbox")
# What a clean start and stop must not print (gevent patching after ssl was imported; gevent's
# patched threading torn down before logging's handlers at exit; anything uncaught).
NOISE = ("Traceback", "Exception ignored", "MonkeyPatchWarning")
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


def _pip_run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pip", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=_clean_env(),
    )


def _pip(*args: str) -> subprocess.CompletedProcess:
    done = _pip_run(*args)
    assert done.returncode == 0, f"pip {' '.join(args)}\n{done.stdout}{done.stderr}"
    return done


def _wheel(source: Path, out: Path) -> tuple[Path, str]:
    done = _pip(
        "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(out), str(source)
    )
    name = source.name.replace("-", "_")
    (wheel,) = [w for w in out.glob("*.whl") if w.name.lower().startswith(name.lower() + "-")]
    return wheel, done.stdout + done.stderr


def _fill_wheelhouse() -> None:
    """The wheels of requirements.lock in WHEELHOUSE (what `make wheelhouse` does): offline when
    they are all there, else from the package index."""
    base = ["download", "--require-hashes", "--only-binary", ":all:"]
    base += ["-d", str(WHEELHOUSE), "-r", str(LOCK)]
    if _pip_run(*base, "--no-index", "--find-links", str(WHEELHOUSE)).returncode == 0:
        return
    done = _pip_run(*base)
    assert done.returncode == 0, (
        f"the wheels of {LOCK.name} are not in {WHEELHOUSE} and cannot be downloaded "
        f"(run `make wheelhouse` where the package index is reachable):\n{done.stderr}"
    )


def _fake_wheel(out: Path, name: str) -> Path:
    """A wheel of a distribution named `name` whose top-level package `name` fails loudly when
    imported, so any import of the generic name (instead of om_bridge.<name>) breaks the run.
    Written directly (a wheel is a zip file with its metadata), not built by pip."""
    out.mkdir(parents=True, exist_ok=True)
    info = f"{name}-9.9.9.dist-info"
    files = {
        f"{name}/__init__.py": f'raise ImportError("the unrelated distribution {name!r} was imported")\n',
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 9.9.9\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: om-bridge-tests\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    records = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        records.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    files[f"{info}/RECORD"] = "\n".join([*records, f"{info}/RECORD,,"]) + "\n"
    wheel = out / f"{name}-9.9.9-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return wheel


def install_like_the_dockerfile(python: Path, wheels: Path) -> list[str]:
    """Run the Dockerfile's install steps against the environment of `python`: its lock file
    path is this checkout's requirements.lock, its wheel directory `wheels`; the lock's own
    wheels come from WHEELHOUSE, not the index. Returns the commands run."""
    ran = []
    for argv in dockerfile_install_steps():
        assert argv[0] == "pip"
        args = [
            str(LOCK) if a == LOCK_IN_IMAGE else str(wheels) if a == WHEELS_IN_IMAGE else a
            for a in argv[1:]
        ]
        if args[0] == "install" and "--no-index" not in args:
            args += ["--no-index", "--find-links", str(WHEELHOUSE)]
        _pip("--python", str(python), *args)
        ran.append(" ".join(["pip", *args]))
    return ran


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict[str, Path]:
    """A fresh venv holding the om-bridge wheel and its locked dependencies (module-wide: slow)."""
    tmp = tmp_path_factory.mktemp("packaging")
    source = tmp / "om-bridge"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    wheels = tmp / "wheels"
    wheel, build_output = _wheel(source, wheels)
    _fill_wheelhouse()

    venv = tmp / "venv"
    # Not --system-site-packages, and not the test venv's: only what the steps below install.
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)],
        check=True,
        timeout=600,
        env=_clean_env(),
    )
    python = venv / "bin" / "python"
    paths = subprocess.run(
        [
            str(python),
            "-c",
            "import json, sys, sysconfig; print(json.dumps([sysconfig.get_paths()"
            "['purelib'], sys.path]))",
        ],
        capture_output=True,
        text=True,
        check=True,
        env=_clean_env(),
        cwd=tmp,
    ).stdout
    purelib, sys_path = json.loads(paths)
    test_venv = Path(sys.prefix).resolve()
    assert not any(Path(p).resolve().is_relative_to(test_venv) for p in sys_path if p), sys_path
    steps = install_like_the_dockerfile(python, wheels)

    fake_wheels = [_fake_wheel(tmp / "fakes", n) for n in COLLIDING]
    _pip("--python", str(python), "install", "--no-deps", "--no-index", *map(str, fake_wheels))
    (tmp / "build-output.txt").write_text(build_output)
    (tmp / "steps.txt").write_text("\n".join(steps))
    return {
        "tmp": tmp,
        "venv": venv,
        "python": python,
        "purelib": Path(purelib),
        "wheel": wheel,
        "build_output": tmp / "build-output.txt",
        "steps": tmp / "steps.txt",
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


def _stop(proc: subprocess.Popen) -> str:
    """SIGTERM to the process group (as systemd or docker stop does); its whole output."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        out, _ = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate(timeout=10)
    return out


def _assert_clean(output: str) -> None:
    for noise in NOISE:
        assert noise not in output, output


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


def _normalized(name: str) -> str:
    """A distribution name as the package index compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


def test_installed_from_the_lock_alone(installed):
    """Everything in the venv came from the lock (plus the wheel and the fakes), and pip finds
    every declared dependency satisfied."""
    steps = installed["steps"].read_text().splitlines()
    assert steps[0].startswith("pip install --require-hashes -r ") and "--no-index" in steps[0]
    assert steps[1].startswith("pip install --no-index --find-links ")
    assert steps[2] == "pip check"
    listed = json.loads(
        _pip("--python", str(installed["python"]), "list", "--format", "json").stdout
    )
    have = {_normalized(d["name"]) for d in listed}
    pinned = set()
    for line in LOCK.read_text().splitlines():
        if line and not line[0].isspace() and "==" in line and not line.startswith("#"):
            pinned.add(_normalized(line.split("==")[0]))
    assert "packaging" in have and "gunicorn" in have and "gevent" in have
    assert have - pinned == {"om-bridge", *COLLIDING}


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


@pytest.fixture
def https_sandbox(tls: TLSFiles, ca_bundle_env: str) -> Iterator[tuple[SandboxServer, int]]:
    """The sandbox on HTTPS (the test CA's certificate), and the port the bridge will listen on."""
    port = free_port()
    sandbox = SandboxServer(
        config=merge(sandbox_demo_config(f"http://{HOST}:{port}"), FAST_SANDBOX),
        host=HOST,
        port=0,
        **tls.server_args,
    )
    sandbox.start()
    try:
        assert sandbox.url.startswith("https://")
        yield sandbox, port
    finally:
        sandbox.stop()


def _bridge_env(tls: TLSFiles) -> dict[str, str]:
    """The installed bridge's environment: demo secrets and flags, the test CA as its trust."""
    env = bridge_environ(tls.ca_bundle, {**_clean_env(), **demo_environ()})
    for name in (
        "OM_BRIDGE_STORE",
        "OM_BRIDGE_CONFIG",
        "GUNICORN_CMD_ARGS",
        "OM_BRIDGE_PUBLIC_URL",
    ):
        env.pop(name, None)
    return env


def test_installed_serve_hands_over_and_back_over_https_and_stops_cleanly(
    installed, https_sandbox, tls
):
    sandbox, port = https_sandbox
    tmp = installed["tmp"] / "serve"
    bridge_url = f"http://{HOST}:{port}"
    config_path = tmp / "etc" / "om-bridge.toml"
    write_config(config_path, demo_config(bridge_url, sandbox.url, tmp / "data"))
    argv = [
        str(config_path) if a == CONFIG_PLACEHOLDER else str(port) if a == PORT_PLACEHOLDER else a
        for a in production_command()
    ]
    assert argv[0] == "om-bridge"
    argv[0] = str(installed["venv"] / "bin" / "om-bridge")
    proc = subprocess.Popen(
        argv,
        cwd=tmp,
        env=_bridge_env(tls),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output = ""
    try:
        answers: list[requests.Response] = []

        def answered() -> bool:
            assert proc.poll() is None, f"serve exited:\n{_stop(proc)}"
            try:
                answers.append(requests.get(bridge_url + "/readyz", timeout=30))
            except requests.ConnectionError:
                return False
            return True

        wait_until(answered, 300, interval=0.2, what="/readyz of the installed om-bridge serve")
        # Its first answer: the Genesys login over HTTPS worked (a TLS failure is named here).
        assert answers[-1].status_code == 200, answers[-1].text
        hand_over_and_back(sandbox.url, bridge_url)
    finally:
        output = _stop(proc)
    assert proc.returncode == 0, output
    assert "Starting gunicorn" in output and "Shutting down: Master" in output, output
    _assert_clean(output)


def test_installed_listener_follows_a_handover_over_https_and_stops_cleanly(
    installed, https_sandbox, tls
):
    """`om-bridge listener` (log_format json: every line it writes is a JSON object) subscribes
    over HTTPS to the conversation of a handover it finds in the store and connects its
    notification channel over wss://."""
    sandbox, port = https_sandbox
    tmp = installed["tmp"] / "listener"
    config = demo_config(f"http://{HOST}:{port}", sandbox.url, tmp / "data")
    config["providers"][0]["completion"] = "notifications"
    config["bridge"]["log_format"] = "json"
    config_path = tmp / "om-bridge.toml"
    write_config(config_path, config)
    store = open_store(config["bridge"]["store"])
    store.create_handover(
        Handover.new(
            SessionKey("demo", "u-listener", "s-listener"),
            "genesys-demo",
            "u-listener",
            integration_id="i",
            conversation_id="conv-installed-listener",
            status="active",
        )
    )
    store.close()
    proc = subprocess.Popen(
        [str(installed["venv"] / "bin" / "om-bridge"), "listener", "--config", str(config_path)],
        cwd=tmp,
        env=_bridge_env(tls),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    topic = "v2.detail.events.conversation.conv-installed-listener.customer.end"
    try:

        def watching() -> bool:
            assert proc.poll() is None, f"the listener exited:\n{_stop(proc)}"
            channels = requests.get(
                sandbox.url + "/sandbox/notifications/channels", timeout=10
            ).json()
            return any(c["connected"] and topic in c["topics"] for c in channels["entities"])

        wait_until(watching, 180, interval=0.2, what="the installed listener subscribed over wss")
    finally:
        output = _stop(proc)
    assert proc.returncode == 0, output
    _assert_clean(output)
    lines = [json.loads(raw) for raw in output.splitlines() if raw.strip()]
    assert any("notifications listener running for genesys-demo" in x["message"] for x in lines)


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
        wait_for_http(f"{base}/readyz", timeout=180)
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
