"""`CognigyClient`: Cognigy's Inject and Notify calls for one configured Cognigy endpoint.

Inject sends text/data into the session's flow, Notify straight to the user
(docs/reference/cognigy-model.md, "2026 update"): `POST <endpoint>/inject|notify/<URLToken>` on
Cognigy's endpoint service (the route Cognigy documents today), or, as a legacy option, the v2.0
API `POST <api>/new/v2.0/endpoint/inject|notify` with the API key in `X-API-Key` (deprecated in
Cognigy.AI 2026.6.0). Bodies as `@cognigy/rest-api-client` types them (`IInjectRestDataBody_2_0`,
`INotifyRestDataBody_2_0`): `{URLToken, userId, sessionId, text, data}` with `text` always a string
and `data` always an object; a Notify carries agent files in its top-level `attachments`
(`[{type: image|video|audio|file, url, name, caption?}]`) and the agent's name and avatar where
Cognigy's webchat reads them (`data._webchat.agentAvatarOverrideNameOnce` / `...UrlOnce`).

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


# Genesys' attachment mediaType -> Cognigy's attachment type (`TGenericAttachments`).
MEDIA_TYPES = {"image": "image", "video": "video", "audio": "audio"}


def cognigy_attachment(item: dict[str, Any]) -> dict[str, Any] | None:
    """One Genesys attachment (`{mediaType, url, mime, filename, text?}`) as Cognigy's
    `IFileAttachment | IImageAttachment | IVideoAttachment | IAudioAttachment`; None without a
    URL."""
    url = item.get("url")
    if not isinstance(url, str) or not url:
        return None
    media = str(item.get("mediaType") or "").lower()
    mime = str(item.get("mime") or "").lower()
    kind = MEDIA_TYPES.get(media) or MEDIA_TYPES.get(mime.split("/", 1)[0]) or "file"
    name = item.get("filename") or item.get("name") or url.rsplit("/", 1)[-1] or "file"
    out: dict[str, Any] = {"type": kind, "url": url, "name": str(name)}
    if isinstance(item.get("text"), str) and item["text"]:
        out["caption"] = item["text"]
    return out


def _no_nulls(value: Any) -> Any:
    """Optional fields left out rather than null (the socket client's types allow no null)."""
    if isinstance(value, dict):
        return {k: _no_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_no_nulls(v) for v in value]
    return value


def _default_channel(data: dict[str, Any]) -> None:
    """`_cognigy._default` quick replies and galleries as `@cognigy/socket-client` types them
    (`IDefaultQuickReplies`: text a string; `IDefaultGallery`: `{type: "carousel", items}`,
    each item with a numeric `id` and string `title`, `subtitle`, `imageUrl`)."""
    default = (data.get("_cognigy") or {}).get("_default")
    if not isinstance(default, dict):
        return
    cleaned = _no_nulls(default)
    replies = cleaned.get("_quickReplies")
    if isinstance(replies, dict):
        replies["text"] = replies.get("text") or ""
    gallery = cleaned.get("_gallery")
    if isinstance(gallery, dict):
        gallery.pop("fallbackText", None)  # the message's own text carries it
        for i, item in enumerate(gallery.get("items") or []):
            if isinstance(item, dict):
                item.setdefault("id", i)
                for key in ("title", "subtitle", "imageUrl"):
                    item[key] = str(item.get(key) or "")
    data["_cognigy"] = {**data["_cognigy"], "_default": cleaned}


def _notify_shape(body: dict[str, Any]) -> None:
    """Agent files to `attachments`, the agent's name/avatar to `data._webchat`, rich content in
    the default channel's typed shapes."""
    data = body["data"]
    _default_channel(data)
    files = data.pop("attachments", None)
    if isinstance(files, list):
        converted = [a for a in (cognigy_attachment(f) for f in files if isinstance(f, dict)) if a]
        if converted:
            body["attachments"] = converted
    agent = data.get("agent")
    if isinstance(agent, dict):
        webchat: dict[str, Any] = {}
        if agent.get("name"):
            webchat["agentAvatarOverrideNameOnce"] = str(agent["name"])
        avatar = agent.get("avatar") or agent.get("avatarUrl")
        if avatar:
            webchat["agentAvatarOverrideUrlOnce"] = str(avatar)
        if webchat:
            data["_webchat"] = {**(data.get("_webchat") or {}), **webchat}


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
        self,
        user_id: str,
        session_id: str,
        text: str | None,
        data: dict | None,
        call: str = "inject",
    ) -> dict[str, Any]:
        """The Inject/Notify body: `text` always a string ("" when there is none), `data` always
        an object; for a Notify, agent files move from `data.attachments` (Genesys' shape) to the
        top-level `attachments` and the agent's name/avatar are added for Cognigy's webchat."""
        out: dict[str, Any] = {
            "URLToken": self.endpoint.url_token,
            "userId": user_id,
            "sessionId": session_id,
            "text": text if isinstance(text, str) else "",
            "data": dict(data) if isinstance(data, dict) else {},
        }
        if call == "notify":
            _notify_shape(out)
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
