"""`CognigyEmulator`: Cognigy's side of a Cognigy-hosted handover, in one process.

Its endpoints take Cognigy's REST-endpoint input format but deliver asynchronously as well (the
output stream), like the Webchat/Webhook endpoints that Inject and Notify support (Cognigy's REST
endpoint does not). Two HTTP servers, as Cognigy has two hosts:
- the **endpoint** service (`endpoint-<env>`): `POST /<URLToken>` (REST endpoint: `{userId,
  sessionId, text?, data?}` → `{text, data, outputStack, userId, sessionId}`), Inject and Notify
  `POST /inject/<URLToken>` and `/notify/<URLToken>` (the route Cognigy documents today), the
  webchat page `GET /webchat/<URLToken>`, and the emulator's own output stream for it
  (`GET /_emulator/sessions/<URLToken>/<sessionId>/outputs?userId=&after=&wait=`);
- the **API** server (`api-<env>`): the legacy v2.0 `POST /new/v2.0/endpoint/inject` and
  `/notify` and `GET /new/v2.0/endpoints`, each with the API key in `X-API-Key` (401 otherwise).

Inject and Notify take only bodies `@cognigy/rest-api-client`'s types allow (`contract.py`; 400
naming the field otherwise). As in Cognigy, Inject answers 200 at once and the flow runs
afterwards (in order per session), so a Notify sent after an Inject can reach the user before
the flow's output. Flows run on the emulator's own engine (`flows.py`); the extension's nodes run
in Node.js.

Faults on Inject/Notify and the API (`POST /_emulator/faults` on the endpoint server: `{call,
status, count, retry_after}`) and a down API (`api_down()` / `api_up()`: the API socket closes,
connections are refused). Contact profiles per userId (`contacts`) are the flows' `profile`.
Every Inject/Notify Cognigy accepted is in `GET /_emulator/api-log` (with the bodies refused as
`rejected`); each session's inputs, context and entrypoint in
`GET /_emulator/sessions/<URLToken>/<sessionId>`.
"""

from __future__ import annotations

import copy
import hmac
import logging
import queue
import ssl
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, request, send_file
from werkzeug.serving import make_server

from om_bridge.sandbox.tls import tls_context

from .contract import ContractError, check
from .flows import FlowEngine, FlowState, load_chart
from .noderunner import NodeRunner, extract_extension

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
EXTENSION_NAME = "om-bridge-extension"
MAX_WAIT = 30.0
# Cognigy's answers (API reference: IInjectRestReturnValue_2_0 / INotifyRestReturnValue_2_0).
INJECT_ANSWER = "Message was sent to AI for Flow processing"
NOTIFY_ANSWER = "Sucessfully sent message to user"


@dataclass
class Session:
    """One Cognigy session: flow state, outputs the user got, the inputs the flow ran on."""

    state: FlowState = field(default_factory=FlowState)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    inputs: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class Fault:
    call: str  # "inject", "notify", "endpoints" or "*"
    status: int
    count: int  # -1 = until cleared
    retry_after: float | None = None


class EmulatorError(ValueError):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class Cognigy:
    """The emulated Cognigy: endpoints with their flows, sessions, the API's state."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.api_keys = [str(k) for k in config.get("api_keys") or []]
        # Contact profiles by userId (Cognigy keeps one per user): `profile` in the flows.
        self.contacts: dict[str, dict[str, Any]] = dict(config.get("contacts") or {})
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        ext_dir = config.get("extension_dir")
        if not ext_dir:
            self._tmp = tempfile.TemporaryDirectory(prefix="om-bridge-cognigy-")
            ext_dir = extract_extension(config["extension"], self._tmp.name)
        self.runner = NodeRunner(ext_dir)
        self.endpoints: dict[str, dict[str, Any]] = {}
        self.engines: dict[str, FlowEngine] = {}
        # Injects wait here for the flow, in arrival order; one worker runs them.
        self._injects: queue.Queue[tuple[str, str, str, str, dict[str, Any]] | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        try:
            for e in config.get("endpoints") or []:
                self.endpoints[e["url_token"]] = dict(e)
                self.engines[e["url_token"]] = FlowEngine(
                    load_chart(e["flow"]),
                    self.runner,
                    EXTENSION_NAME,
                    dict(e.get("connections") or {}),
                )
        except BaseException:
            self.close()
            raise
        self.sessions: dict[tuple[str, str, str], Session] = {}
        self.api_log: list[dict[str, Any]] = []
        self.rejected: list[dict[str, Any]] = []
        self.faults: list[Fault] = []
        self.refused = 0  # API calls answered with an injected fault
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)

    # -- sessions -------------------------------------------------------------------------
    def session(self, token: str, user_id: str, session_id: str) -> Session:
        if token not in self.endpoints:
            raise EmulatorError(f"no endpoint with URL token {token!r}", 404)
        with self._lock:
            key = (token, user_id, session_id)
            if key not in self.sessions:
                session = Session()
                session.state.profile = copy.deepcopy(self.contacts.get(user_id) or {})
                self.sessions[key] = session
            return self.sessions[key]

    def _append(self, session: Session, outputs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        added = []
        with self._changed:
            for out in outputs:
                record = {
                    "seq": len(session.outputs) + 1,
                    "time": time.time(),
                    **out,
                }
                session.outputs.append(record)
                added.append(record)
            self._changed.notify_all()
        return added

    def run_input(
        self,
        token: str,
        user_id: str,
        session_id: str,
        text: str | None,
        data: dict[str, Any] | None,
        via: str,
    ) -> list[dict[str, Any]]:
        """Run the endpoint's flow for one input (user message or Inject); returns the outputs
        the user gets."""
        session = self.session(token, user_id, session_id)
        engine = self.engines[token]
        with session.lock:
            input_id = str(uuid.uuid4())
            flow_input = {
                "text": text,
                "data": copy.deepcopy(data) if data is not None else None,
                "userId": user_id,
                "sessionId": session_id,
                "URLToken": token,
                "channel": "webchat",
                "inputId": input_id,
                "traceId": input_id,
                "type": "statement",
                "mode": ("TextData" if data else "TextOnly") if text else "DataOnly",
            }
            session.inputs.append({"via": via, "text": text, "data": copy.deepcopy(data)})
            result = engine.run(session.state, flow_input)
            if result.error is not None:
                log.warning("cognigy flow %s: %s", token, result.error)
            outs = [
                {"source": "bot", "text": o["text"], "data": o["data"], "via": via}
                for o in result.outputs
                if o.get("destination") != "agentOnly"
            ]
            return self._append(session, outs)

    def inject_later(
        self, token: str, user_id: str, session_id: str, text: str, data: dict[str, Any]
    ) -> None:
        """Queue an Inject for the flow (Cognigy answers first and runs the flow afterwards)."""
        self.session(token, user_id, session_id)
        with self._lock:
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._run_injects, name="cognigy-injects", daemon=True
                )
                self._worker.start()
        self._injects.put((token, user_id, session_id, text, data))

    def _run_injects(self) -> None:
        while True:
            item = self._injects.get()
            if item is None:
                return
            token, user_id, session_id, text, data = item
            try:
                self.run_input(token, user_id, session_id, text or None, data, "inject")
            except Exception:  # the emulator goes on with the next input, as Cognigy would
                log.exception("cognigy flow %s: an injected input failed", token)
            finally:
                with self._changed:
                    self._changed.notify_all()

    def notify(
        self,
        token: str,
        user_id: str,
        session_id: str,
        text: str,
        data: dict[str, Any],
        attachments: list[dict[str, Any]] | None,
    ) -> None:
        """Notify: straight to the user, no flow."""
        session = self.session(token, user_id, session_id)
        out: dict[str, Any] = {"source": "notify", "text": text or None, "data": data}
        if attachments:
            out["attachments"] = attachments
        out["via"] = "notify"
        with session.lock:
            self._append(session, [out])

    def outputs_after(
        self, token: str, user_id: str, session_id: str, after: int, wait: float
    ) -> list[dict[str, Any]]:
        session = self.session(token, user_id, session_id)
        deadline = time.monotonic() + min(max(wait, 0.0), MAX_WAIT)
        with self._changed:
            while True:
                found = [o for o in session.outputs if o["seq"] > after]
                remaining = deadline - time.monotonic()
                if found or remaining <= 0:
                    return copy.deepcopy(found)
                self._changed.wait(remaining)

    # -- API ------------------------------------------------------------------------------
    def fault_for(self, call: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.call in (call, "*") and fault.count != 0:
                    if fault.count > 0:
                        fault.count -= 1
                    self.refused += 1
                    return fault
        return None

    def key_ok(self, given: str | None) -> bool:
        if not given:
            return False
        return any(hmac.compare_digest(given.encode(), k.encode()) for k in self.api_keys)

    def log_call(self, call: str, body: dict[str, Any]) -> None:
        with self._lock:
            self.api_log.append({"call": call, "body": copy.deepcopy(body), "time": time.time()})

    def log_rejected(self, call: str, body: Any, problem: str) -> None:
        with self._lock:
            self.rejected.append({"call": call, "body": copy.deepcopy(body), "problem": problem})

    def close(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            self._injects.put(None)
            worker.join(30)
        self.runner.close()
        if self._tmp is not None:
            self._tmp.cleanup()


def _error(status: int, message: str) -> tuple[Response, int]:
    return jsonify({"error": message, "statusCode": status}), status


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise EmulatorError("the body must be a JSON object")
    return body


def _message(body: dict[str, Any], token: str | None = None) -> tuple[str, str, str, Any, Any]:
    token = token or body.get("URLToken")
    for name, value in (
        ("URLToken", token),
        ("userId", body.get("userId")),
        ("sessionId", body.get("sessionId")),
    ):
        if not isinstance(value, str) or not value:
            raise EmulatorError(f"{name} must be a non-empty string")
    text, data = body.get("text"), body.get("data")
    if text is not None and not isinstance(text, str):
        raise EmulatorError("text must be a string")
    if data is not None and not isinstance(data, dict):
        raise EmulatorError("data must be an object")
    if not text and not data:
        raise EmulatorError("text or data is required")
    return str(token), body["userId"], body["sessionId"], text, data


def rest_reply(user_id: str, session_id: str, outputs: list[dict[str, Any]]) -> dict[str, Any]:
    """Cognigy's REST endpoint answer: the outputs' texts joined, their data merged, and the
    `outputStack`."""
    stack = [
        {"text": o["text"], "data": o["data"], "traceId": f"trace-{o['seq']}", "source": "bot"}
        for o in outputs
    ]
    texts = [o["text"] for o in stack if o["text"]]
    data: dict[str, Any] = {}
    for o in stack:
        if isinstance(o["data"], dict):
            data.update(o["data"])
    return {
        "text": "\n".join(texts) if texts else None,
        "data": data or None,
        "outputStack": stack,
        "userId": user_id,
        "sessionId": session_id,
    }


def endpoint_app(cognigy: Cognigy) -> Flask:
    """The endpoint host: REST endpoint, transformer Inject/Notify, webchat, emulator routes."""
    app = Flask("om-bridge-cognigy-endpoint")

    @app.errorhandler(EmulatorError)
    def _bad(exc: EmulatorError) -> Any:
        return _error(exc.status, str(exc))

    @app.post("/<token>")
    def rest_input(token: str) -> Any:
        _, user_id, session_id, text, data = _message(_body(), token)
        outs = cognigy.run_input(token, user_id, session_id, text, data, "endpoint")
        return jsonify(rest_reply(user_id, session_id, outs))

    @app.post("/inject/<token>")
    def transformer_inject(token: str) -> Any:
        return _api_call(cognigy, "inject", token, check_key=False)

    @app.post("/notify/<token>")
    def transformer_notify(token: str) -> Any:
        return _api_call(cognigy, "notify", token, check_key=False)

    @app.get("/webchat/<token>")
    def webchat(token: str) -> Any:
        if token not in cognigy.endpoints:
            return _error(404, f"no endpoint with URL token {token!r}")
        return send_file(STATIC / "webchat.html", mimetype="text/html")

    @app.get("/_emulator/static/<name>")
    def static_file(name: str) -> Any:
        if name not in ("webchat.js", "webchat.css"):
            return _error(404, "no such file")
        return send_file(STATIC / name)

    @app.get("/_emulator/sessions/<token>/<session_id>/outputs")
    def outputs(token: str, session_id: str) -> Any:
        user_id = request.args.get("userId") or ""
        if not user_id:
            raise EmulatorError("userId is required")
        try:
            after = int(request.args.get("after") or 0)
            wait = float(request.args.get("wait") or 0)
        except ValueError:
            raise EmulatorError("after and wait must be numbers") from None
        found = cognigy.outputs_after(token, user_id, session_id, after, wait)
        return jsonify({"outputs": found, "next": found[-1]["seq"] if found else after})

    @app.get("/_emulator/sessions/<token>/<session_id>")
    def session_view(token: str, session_id: str) -> Any:
        user_id = request.args.get("userId") or ""
        s = cognigy.session(token, user_id, session_id)
        with s.lock:
            return jsonify(
                {
                    "inputs": s.inputs,
                    "context": s.state.context,
                    "entrypoint": s.state.entrypoint,
                    "waitNode": s.state.wait_node,
                    "outputs": s.outputs,
                }
            )

    @app.get("/_emulator/api-log")
    def api_log() -> Any:
        with cognigy._lock:
            return jsonify(
                {
                    "calls": copy.deepcopy(cognigy.api_log),
                    "refused": cognigy.refused,
                    "rejected": copy.deepcopy(cognigy.rejected),
                }
            )

    @app.post("/_emulator/faults")
    def add_fault() -> Any:
        body = _body()
        try:
            fault = Fault(
                call=str(body.get("call") or "*"),
                status=int(body["status"]),
                count=int(body.get("count", 1)),
                retry_after=float(body["retry_after"])
                if body.get("retry_after") is not None
                else None,
            )
        except (KeyError, TypeError, ValueError):
            raise EmulatorError(
                "a fault needs status (and optional call, count, retry_after)"
            ) from None
        with cognigy._lock:
            cognigy.faults.append(fault)
        return jsonify(vars(fault)), 201

    @app.delete("/_emulator/faults")
    def clear_faults() -> Any:
        with cognigy._lock:
            cognigy.faults.clear()
        return "", 204

    return app


def _api_call(cognigy: Cognigy, call: str, token: str | None, check_key: bool) -> Any:
    fault = cognigy.fault_for(call)
    if fault is not None:
        resp, status = _error(fault.status, f"fault injected ({fault.status})")
        if fault.retry_after is not None:
            resp.headers["Retry-After"] = str(fault.retry_after)
        return resp, status
    if check_key and not cognigy.key_ok(request.headers.get("X-API-Key")):
        return _error(401, "Unauthorized: missing or invalid API key")
    raw = request.get_json(silent=True)
    try:
        body = check(call, raw)
        if token is not None and body["URLToken"] != token:
            raise ContractError("URLToken in the body differs from the URL token of the route")
    except ContractError as exc:
        cognigy.log_rejected(call, raw, str(exc))
        return _error(400, f"bad {call} body: {exc}")
    token = body["URLToken"]
    if token not in cognigy.endpoints:
        return _error(404, f"no endpoint with URL token {token!r}")
    cognigy.log_call(call, body)
    user_id, session_id = body["userId"], body["sessionId"]
    if call == "notify":
        cognigy.notify(
            token, user_id, session_id, body["text"], body["data"], body.get("attachments")
        )
        return jsonify(NOTIFY_ANSWER)
    cognigy.inject_later(token, user_id, session_id, body["text"], body["data"])
    return jsonify(INJECT_ANSWER)


def api_app(cognigy: Cognigy) -> Flask:
    """The API host: Inject, Notify and the endpoint list, with the API key."""
    app = Flask("om-bridge-cognigy-api")

    @app.errorhandler(EmulatorError)
    def _bad(exc: EmulatorError) -> Any:
        return _error(exc.status, str(exc))

    @app.post("/new/v2.0/endpoint/inject")
    def inject() -> Any:
        return _api_call(cognigy, "inject", None, check_key=True)

    @app.post("/new/v2.0/endpoint/notify")
    def notify() -> Any:
        return _api_call(cognigy, "notify", None, check_key=True)

    @app.get("/new/v2.0/endpoints")
    def endpoints() -> Any:
        fault = cognigy.fault_for("endpoints")
        if fault is not None:
            return _error(fault.status, f"fault injected ({fault.status})")
        if not cognigy.key_ok(request.headers.get("X-API-Key")):
            return _error(401, "Unauthorized: missing or invalid API key")
        items = [
            {"_id": t, "name": e.get("name") or t, "URLToken": t, "channel": "webchat3"}
            for t, e in cognigy.endpoints.items()
        ]
        skip = int(request.args.get("skip") or 0)
        limit = int(request.args.get("limit") or 25)
        return jsonify({"items": items[skip : skip + limit], "total": len(items)})

    return app


class _Server:
    def __init__(self, app: Flask, host: str, port: int, tls: ssl.SSLContext | None = None) -> None:
        self._server = make_server(host, port, app, threaded=True, ssl_context=tls)
        self.port = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            args=(0.05,),
            daemon=True,
            name=f"cognigy-{self.port}",
        )
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


class CognigyEmulator:
    """The emulator's two servers on `host` (ports 0 = free ports); `.endpoint_url`, `.api_url`.

    With `tls_cert` and `tls_key` (PEM files) both hosts serve HTTPS on that certificate, as
    Cognigy's do, and their URLs are `https://…`."""

    def __init__(
        self,
        config: dict[str, Any],
        host: str = "127.0.0.1",
        endpoint_port: int = 0,
        api_port: int = 0,
        *,
        tls_cert: str | None = None,
        tls_key: str | None = None,
    ) -> None:
        self.host = host
        self._tls = tls_context(tls_cert, tls_key)
        self._scheme = "https" if self._tls else "http"
        self.cognigy = Cognigy(config)
        try:
            self._endpoint = _Server(endpoint_app(self.cognigy), host, endpoint_port, self._tls)
            self._api: _Server | None = _Server(api_app(self.cognigy), host, api_port, self._tls)
        except BaseException:
            self.cognigy.close()
            raise
        self.api_port = self._api.port
        self._stopped = False

    @property
    def endpoint_url(self) -> str:
        return f"{self._scheme}://{self.host}:{self._endpoint.port}"

    @property
    def api_url(self) -> str:
        return f"{self._scheme}://{self.host}:{self.api_port}"

    def api_down(self) -> None:
        """Cognigy's API is down: its port refuses connections until `api_up`."""
        if self._api is not None:
            self._api.stop()
            self._api = None

    def api_up(self) -> None:
        if self._api is None:
            self._api = _Server(api_app(self.cognigy), self.host, self.api_port, self._tls)

    def stop(self) -> None:
        """Stop both servers and the Node.js runner (once; later calls do nothing)."""
        if self._stopped:
            return
        self._stopped = True
        self.api_down()
        self._endpoint.stop()
        self.cognigy.close()

    def __enter__(self) -> CognigyEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
