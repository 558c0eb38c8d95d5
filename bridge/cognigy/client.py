"""`CognigyClient`: Cognigy's Inject and Notify calls for one configured Cognigy endpoint.

Inject sends text/data into the session's flow, Notify straight to the user
(docs/reference/cognigy-model.md §4.5): `POST <api>/new/v2.0/endpoint/inject|notify` with the API
key in `X-API-Key`, or, for endpoints with Inject/Notify Transformers, `POST
<endpoint>/inject|notify/<URLToken>`. Body `{URLToken, userId, sessionId, text, data}`.

One HTTP attempt per call: the durable outbox owns retries and their backoff. Errors never carry
the API key (it is only ever in a request header).
"""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from time import time
from typing import Any

import requests

from om_bridge.bridge.config import CognigyEndpoint
from om_bridge.bridge.genesys.failures import describe_failure

API_PATHS = {"inject": "/new/v2.0/endpoint/inject", "notify": "/new/v2.0/endpoint/notify"}
ENDPOINTS_PATH = "/new/v2.0/endpoints"
TIMEOUT = (3.05, 10.0)


class CognigyError(Exception):
    """A call Cognigy did not accept: `status` (None for a connection error or timeout),
    `retryable`, `retry_after` seconds when Cognigy said so, `auth` for 401/403."""

    def __init__(
        self,
        message: str,
        status: int | None = None,
        *,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after

    @property
    def auth(self) -> bool:
        return self.status in (401, 403)

    @property
    def retryable(self) -> bool:
        """429, 408, 5xx and connection problems pass; 401/403 wait for a fixed key (never lost);
        other 4xx (bad body, unknown URL token) cannot succeed by repetition."""
        return self.status is None or self.status in (408, 429) or self.status >= 500 or self.auth


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max(parsedate_to_datetime(value).timestamp() - time(), 0.0)
    except (TypeError, ValueError):
        return None


class CognigyClient:
    """Inject/Notify for one Cognigy endpoint (thread-safe; one connection pool)."""

    def __init__(self, endpoint: CognigyEndpoint, session: requests.Session | None = None) -> None:
        self.endpoint = endpoint
        self._session = session or requests.Session()

    def url(self, call: str) -> str:
        """Where `call` ("inject" or "notify") goes for this endpoint."""
        e = self.endpoint
        if e.uses_transformers:
            return f"{e.endpoint_base_url}/{call}/{e.url_token}"
        return e.api_base_url + API_PATHS[call]

    def _headers(self) -> dict[str, str]:
        key = self.endpoint.api_key
        headers = {"Accept": "application/json"}
        if key is not None and key.reveal() and not self.endpoint.uses_transformers:
            headers["X-API-Key"] = key.reveal()
        return headers

    def body(
        self, user_id: str, session_id: str, text: str | None, data: dict | None
    ) -> dict[str, Any]:
        """The Inject/Notify body (`text` left out when there is none)."""
        out: dict[str, Any] = {
            "URLToken": self.endpoint.url_token,
            "userId": user_id,
            "sessionId": session_id,
        }
        if text:
            out["text"] = text
        out["data"] = data or {}
        return out

    def send(self, call: str, body: dict[str, Any]) -> None:
        """One POST of `call` ("inject" / "notify"); raises CognigyError when not accepted."""
        url = self.url(call)
        try:
            resp = self._session.post(url, json=body, headers=self._headers(), timeout=TIMEOUT)
        except requests.RequestException as exc:
            raise CognigyError(f"Cognigy {call} at {url}: {describe_failure(exc)}") from None
        if resp.status_code < 300:
            return
        raise CognigyError(
            f"Cognigy {call} at {url} answered HTTP {resp.status_code}"
            + (" (the API key was refused)" if resp.status_code in (401, 403) else ""),
            resp.status_code,
            retry_after=_retry_after(resp.headers.get("Retry-After")),
        )

    def endpoints(self) -> list[dict[str, Any]]:
        """The endpoints Cognigy's API lists for this key (`GET /new/v2.0/endpoints`, paged);
        for `om-bridge check`. Raises CognigyError."""
        url = self.endpoint.api_base_url + ENDPOINTS_PATH
        items: list[dict[str, Any]] = []
        skip = 0
        while True:
            try:
                resp = self._session.get(
                    url,
                    params={"limit": 100, "skip": skip},
                    headers=self._headers(),
                    timeout=TIMEOUT,
                )
            except requests.RequestException as exc:
                raise CognigyError(f"Cognigy API at {url}: {describe_failure(exc)}") from None
            if resp.status_code >= 300:
                raise CognigyError(
                    f"Cognigy API at {url} answered HTTP {resp.status_code}", resp.status_code
                )
            try:
                page = resp.json()
            except ValueError:
                raise CognigyError(f"Cognigy API at {url} answered no JSON") from None
            batch = [i for i in page.get("items") or [] if isinstance(i, dict)]
            items.extend(batch)
            skip += len(batch)
            if not batch or skip >= int(page.get("total") or 0):
                return items

    def close(self) -> None:
        self._session.close()
