"""Small helpers shared by the sandbox's API route modules: JSON bodies, paging, engine errors."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from flask import Response, current_app, jsonify, request

from om_bridge.sandbox import messages
from om_bridge.sandbox.errors import EngineError, error_body


class BadRequest(Exception):
    """Raised by validators; becomes a 400 `bad.request` ErrorBody with this message."""

    def __init__(self, message: str, code: str = "bad.request", status: int = 400) -> None:
        super().__init__(message)
        self.message, self.code, self.status = message, code, status


def sandbox() -> Any:
    return current_app.extensions["sandbox"]


def json_body(kind: type = dict) -> Any:
    """The request's JSON body of type `kind`, else BadRequest (Genesys' generic 400 text)."""
    data = request.get_json(silent=True, force=True)
    if not isinstance(data, kind):
        raise BadRequest(messages.BODY_NOT_JSON)
    return data


def handles_errors(view: Callable) -> Callable:
    """Turn `BadRequest` / `EngineError` raised by a view into ErrorBody responses."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except BadRequest as exc:
            return error_body(exc.status, exc.code, exc.message)
        except EngineError as exc:
            return error_body(exc.status, exc.code, exc.message)

    return wrapper


def int_arg(name: str, default: int, minimum: int = 1, maximum: int | None = None) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(
            messages.PAGE_SIZE_BAD.format(name=name, value=raw), code="invalid.value"
        ) from None
    if value < minimum or (maximum is not None and value > maximum):
        raise BadRequest(messages.PAGE_SIZE_BAD.format(name=name, value=raw), code="invalid.value")
    return value


def paged(
    items: list, path: str, extra_args: dict | None = None, max_page_size: int = 500
) -> Response:
    """An entity listing with Genesys paging fields and relative page URIs."""
    size = int_arg("pageSize", 25, 1, max_page_size)
    number = int_arg("pageNumber", 1, 1)
    total = len(items)
    count = max(1, -(-total // size))
    args = {k: v for k, v in (extra_args or {}).items() if v is not None}

    def uri(n: int) -> str:
        return f"{path}?{urlencode({'pageSize': size, 'pageNumber': n, **args})}"

    body: dict[str, Any] = {
        "entities": items[(number - 1) * size : number * size],
        "pageSize": size,
        "pageNumber": number,
        "total": total,
        "pageCount": count,
        "firstUri": uri(1),
        "selfUri": uri(number),
        "lastUri": uri(count),
    }
    if number < count:
        body["nextUri"] = uri(number + 1)
    if number > 1:
        body["previousUri"] = uri(min(number - 1, count))
    return jsonify(body)


def created(body: dict, status: int = 200) -> Response:
    resp = jsonify(body)
    resp.status_code = status
    return resp
