"""`om-bridge serve`'s gunicorn settings: serve's defaults, GUNICORN_CMD_ARGS, --gunicorn NAME=VALUE
(later wins), validation by gunicorn, the worker_exit hook, and the Redis requirement for
workers."""

from __future__ import annotations

import pytest
import tomli_w

from om_bridge.bridge import serve
from om_bridge.bridge.app import create_app
from om_bridge.bridge.cli import build_parser
from om_bridge.bridge.demo import demo_config, demo_environ


def options(environ: dict | None = None, extra: tuple | list = ()) -> dict:
    return serve.gunicorn_options("127.0.0.1", 8080, 16, environ or {}, extra)


def test_serve_defaults():
    got = options()
    assert got["bind"] == ["127.0.0.1:8080"]
    assert got["workers"] == 1 and got["worker_connections"] == 10_000
    assert got["worker_class"] == "om_bridge.bridge.gworker.BridgeGeventWorker"
    assert got["timeout"] == 120 and got["graceful_timeout"] == 10 and got["accesslog"] is None


def test_workers_default_ignores_web_concurrency():
    # gunicorn's own default for workers reads WEB_CONCURRENCY; serve pins one worker.
    assert options({"WEB_CONCURRENCY": "4"})["workers"] == 1


def test_gunicorn_cmd_args_override_serve_defaults():
    got = options({"GUNICORN_CMD_ARGS": "--keep-alive 75 --threads 4 --bind 0.0.0.0:9000"})
    assert got["keepalive"] == 75 and got["threads"] == 4 and got["bind"] == ["0.0.0.0:9000"]


def test_repeated_gunicorn_option_overrides_the_environment():
    got = options(
        {"GUNICORN_CMD_ARGS": "--keep-alive 75 --max-requests 5"},
        ["keepalive=30", "max-requests=1000", "forwarded_allow_ips=10.0.0.1,10.0.0.2"],
    )
    assert got["keepalive"] == 30 and got["max_requests"] == 1000
    assert got["forwarded_allow_ips"] == ["10.0.0.1", "10.0.0.2"]


def test_cli_collects_repeated_gunicorn_options():
    args = build_parser().parse_args(
        ["serve", "--gunicorn", "keepalive=5", "--gunicorn", "timeout=300"]
    )
    assert args.gunicorn == ["keepalive=5", "timeout=300"]
    assert build_parser().parse_args(["serve"]).gunicorn == []


@pytest.mark.parametrize(
    ("environ", "extra", "message"),
    [
        ({}, ["no_such_setting=1"], "'no_such_setting' is not a gunicorn setting"),
        ({}, ["keepalive"], "expected NAME=VALUE"),
        ({}, ["threads=many"], "threads = 'many'"),
        ({}, ["worker_exit=os.getcwd"], "'worker_exit' is set by om-bridge serve"),
        ({"GUNICORN_CMD_ARGS": "--config gunicorn.conf.py"}, [], "'config' is set by om-bridge"),
        ({"GUNICORN_CMD_ARGS": "myapp:app"}, [], "names an application (myapp:app)"),
    ],
)
def test_bad_settings_name_the_problem(environ, extra, message):  # type: ignore[no-untyped-def]
    with pytest.raises(serve.GunicornOptionError) as exc:
        options(environ, extra)
    assert message in str(exc.value)


def test_unparseable_gunicorn_cmd_args_is_an_error():
    with pytest.raises(serve.GunicornOptionError, match="GUNICORN_CMD_ARGS"):
        options({"GUNICORN_CMD_ARGS": "--threads"})


def _config_file(tmp_path, store=None):  # type: ignore[no-untyped-def]
    config = demo_config("http://127.0.0.1:8080", "http://127.0.0.1:8081", tmp_path / "data")
    if store:
        config["bridge"]["store"] = store
    path = tmp_path / "om-bridge.toml"
    path.write_text(tomli_w.dumps(config))
    return path


def test_workers_and_connections_flags():
    got = serve.gunicorn_options("127.0.0.1", 8080, 16, {}, (), workers=3, connections=500)
    assert got["workers"] == 3 and got["worker_connections"] == 500
    # GUNICORN_CMD_ARGS and --gunicorn still win over serve's flags.
    got = serve.gunicorn_options("127.0.0.1", 8080, 16, {}, ["workers=2"], workers=3)
    assert got["workers"] == 2


@pytest.mark.parametrize("how", [["--workers", "2"], ["--gunicorn", "workers=2"]])
def test_more_workers_need_a_redis_store(tmp_path, monkeypatch, capsys, how):
    path = _config_file(tmp_path)
    for k, v in demo_environ().items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("OM_BRIDGE_STORE", raising=False)
    args = build_parser().parse_args(
        ["serve", "--config", str(path), "--data-dir", str(tmp_path / "data"), *how]
    )
    assert serve.main(args) == 2
    err = capsys.readouterr().err
    assert "2 workers need a Redis store" in err and "OM_BRIDGE_STORE=redis://" in err


def test_om_bridge_config_is_used_when_config_is_left_at_its_default(tmp_path):
    args = build_parser().parse_args(["serve"])
    assert serve.config_path(args, {"OM_BRIDGE_CONFIG": "/etc/x.toml"}) == "/etc/x.toml"
    assert serve.config_path(args, {}) == "om-bridge.toml"
    args = build_parser().parse_args(["serve", "--config", "mine.toml"])
    assert serve.config_path(args, {"OM_BRIDGE_CONFIG": "/etc/x.toml"}) == "mine.toml"


def test_worker_exit_hook_stops_the_app(tmp_path):
    path = _config_file(tmp_path)
    app = create_app({"config_path": str(path), "environ": demo_environ(), "start_workers": False})
    ctx = app.extensions["om-bridge"]

    class Worker:
        wsgi = app

    serve.worker_exit(None, Worker())
    assert ctx._closed
    serve.worker_exit(None, object())  # a worker whose app never loaded: nothing to stop


def test_no_control_socket_unless_one_is_named():
    # gunicorn's default socket (~/.gunicorn/gunicorn.ctl) would be shared by every instance.
    assert options()["control_socket_disable"] is True
    got = options(extra=["control_socket=/run/om-bridge/a.ctl"])
    assert got["control_socket"] == "/run/om-bridge/a.ctl"
    assert got["control_socket_disable"] is False
    got = options({"GUNICORN_CMD_ARGS": "--control-socket /run/b.ctl"})
    assert got["control_socket_disable"] is False


def test_serve_names_the_worker_class_without_importing_it():
    from om_bridge.bridge import gworker

    assert serve.WORKER_CLASS == gworker.WORKER_CLASS


def test_patch_first_patches_for_gevent_workers_only():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from om_bridge.bridge.gworker import patch_first\n"
        "print(patch_first(sys.argv[1]))\n"
        "from gevent import monkey\n"
        "print(monkey.is_module_patched('ssl'))\n"
    )
    for worker, expected in (
        (serve.WORKER_CLASS, "True\nTrue\n"),
        ("gevent", "True\nTrue\n"),
        ("gthread", "False\nFalse\n"),
        ("sync", "False\nFalse\n"),
    ):
        done = subprocess.run(
            [sys.executable, "-c", code, worker], capture_output=True, text=True, timeout=120
        )
        assert (done.returncode, done.stdout) == (0, expected), done.stderr


def test_log_level_option_of_serve_and_listener():
    for command in ("serve", "listener"):
        assert build_parser().parse_args([command, "--log-level", "debug"]).log_level == "DEBUG"
        assert build_parser().parse_args([command]).log_level is None
    args = build_parser().parse_args(["serve", "--log-level", "warning", "--data-dir", "d"])
    assert serve.cli_overrides(args, "missing.toml", {"OM_BRIDGE_STORE": "redis://r"}) == {
        "bridge": {"log_level": "WARNING"}
    }


def test_gunicorn_lines_go_through_the_json_handler():
    import io
    import json
    import logging
    import logging.config

    from om_bridge.bridge.logs import gunicorn_logconfig

    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    names = ("gunicorn.error", "gunicorn.access")
    saved_loggers = {
        n: (logging.getLogger(n).handlers[:], logging.getLogger(n).propagate) for n in names
    }
    try:
        logging.config.dictConfig(gunicorn_logconfig("INFO", "json", access_log=False))
        [handler] = root.handlers
        stream = io.StringIO()
        handler.setStream(stream)  # type: ignore[attr-defined]
        logging.getLogger("gunicorn.error").info("Booting worker with pid: %s", 7)
        logging.getLogger("gunicorn.access").info("GET /endpoint/x/sessions/y")
        [line] = [json.loads(raw) for raw in stream.getvalue().splitlines()]
        assert (
            line["logger"] == "gunicorn.error" and line["message"] == "Booting worker with pid: 7"
        )
    finally:
        root.handlers[:], root.level = saved
        for n, (handlers, propagate) in saved_loggers.items():
            logging.getLogger(n).handlers[:] = handlers
            logging.getLogger(n).propagate = propagate
