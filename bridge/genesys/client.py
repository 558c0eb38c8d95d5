"""The Genesys Cloud client: integrations, Open Messaging inbound calls, conversations, users."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

import requests

from . import messages, wire
from .auth import TokenProvider
from .errors import IntegrationNotFoundError, NotFoundError
from .notifications import NotificationsMixin
from .regions import Hosts, resolve_hosts
from .retry import RetryPolicy
from .transport import LeanTransport, Transport, parse_body, pooled_session
from .wire import Customer

INTEGRATIONS = "/api/v2/conversations/messaging/integrations/open"
MESSAGES = "/api/v2/conversations/messages"
# `POST .../messages/bulk` takes at most 1,000 message ids (SDK `post_conversations_message_messages_bulk`).
MAX_BULK_MESSAGES = 1000
# A guard against a server that never reports the last page.
MAX_PAGES = 1000


def seg(value: str) -> str:
    """One URL path segment: ids are quoted so they can never change the route."""
    return quote(str(value), safe="")


class GenesysClient(NotificationsMixin):
    """Genesys Cloud API client for one OAuth client; thread-safe, one pooled session per client."""

    def __init__(
        self,
        host: str | None = None,
        client_id: str = "",
        client_secret: str = "",
        *,
        base_url: str | None = None,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (3.05, 10.0),
        retry: RetryPolicy | None = None,
        user_cache_ttl: float = 3600.0,
    ):
        hosts = resolve_hosts(host, base_url)
        self._session = session if session is not None else pooled_session()
        policy = retry or RetryPolicy()
        tokens = TokenProvider(
            hosts.login_base,
            client_id,
            client_secret,
            self._session,
            clock=policy.clock,
            timeout=timeout,
        )
        self._transport = Transport(hosts, tokens, self._session, policy, timeout)
        self._lean: LeanTransport | None = None
        self._lean_lock = threading.Lock()
        self._user_ttl = user_cache_ttl
        self._users: dict[str, tuple[float, dict]] = {}
        self._users_lock = threading.Lock()
        self._integration_ids: dict[str, str] = {}
        self._integrations_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"GenesysClient(api_base={self.hosts.api_base!r})"

    @property
    def timeout(self) -> tuple[float, float]:
        """The (connect, read) timeout of a call."""
        return self._transport.timeout

    @property
    def hosts(self) -> Hosts:
        """The API and login bases this client talks to."""
        return self._transport.hosts

    @property
    def session(self) -> requests.Session:
        """The one HTTP session (connection pool) shared by token and API calls."""
        return self._session

    def token(self) -> str:
        """A valid access token (cached; refreshed ahead of expiry)."""
        return self._transport.tokens.token()

    @property
    def reachability(self) -> Any:
        """When Genesys last answered / last failed to (`transport.Reachability`)."""
        return self._transport.reachability

    def probe(self) -> None:
        """One light API call (the first page of one Open Messaging integration), for readiness
        when no other call has shown recently that Genesys answers; raises on failure."""
        self.request("GET", INTEGRATIONS, params={"pageSize": 1, "pageNumber": 1}, retry=False)

    def close(self) -> None:
        """Close the pooled connections."""
        self._session.close()
        if self._lean is not None:
            self._lean.close()

    def lean_request(self, method: str, path: str, *, json_body: Any = None) -> Any:
        """`request` through the lean keep-alive pool (`LeanTransport`): the same token, retries,
        429 pause, timeouts, proxy and CA bundle, at a fraction of the per-call CPU. For the
        per-message calls (receipts)."""
        with self._lean_lock:
            if self._lean is None:
                self._lean = LeanTransport(self._transport)
            lean = self._lean
        return parse_body(lean.call(method, path, json_body=json_body))

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict | None = None,
        json_body: Any = None,
        retry: bool = True,
        timeout: tuple[float, float] | None = None,
    ) -> Any:
        """Call any API path: parsed JSON (None for an empty body), or a typed error; `timeout`
        (connect, read) replaces the client's for this call."""
        return parse_body(
            self._transport.call(
                method, path, params=params, json_body=json_body, retry=retry, timeout=timeout
            )
        )

    # -- Open Messaging integrations (docs/reference/genesys-open-messaging.md §2) --

    def list_integrations(self, page_size: int = 25) -> list[dict]:
        """Every Open Messaging integration, paging until pageCount or an empty page."""
        found: list[dict] = []
        for page in range(1, MAX_PAGES + 1):
            data = (
                self.request(
                    "GET", INTEGRATIONS, params={"pageSize": page_size, "pageNumber": page}
                )
                or {}
            )
            entities = data.get("entities") or []
            found.extend(entities)
            page_count = data.get("pageCount")
            if not entities or not isinstance(page_count, int) or page >= page_count:
                break
        return found

    def get_integration(self, integration_id: str) -> dict:
        """One integration by id."""
        return self.request("GET", f"{INTEGRATIONS}/{seg(integration_id)}")

    def create_integration(
        self,
        name: str,
        webhook_url: str,
        webhook_secret: str,
        webhook_headers: Mapping[str, str] | None = None,
        supported_content_id: str | None = None,
        messaging_setting_id: str | None = None,
    ) -> dict:
        """Create an Open Messaging integration (`OpenIntegrationRequest`); creation is async."""
        for field, value in (("name", name), ("webhook_url", webhook_url)):
            if not value:
                raise ValueError(messages.required_value(field))
        body = wire.integration_fields(
            dict(
                name=name,
                webhook_url=webhook_url,
                webhook_secret=webhook_secret or "",
                webhook_headers=webhook_headers,
                supported_content_id=supported_content_id,
                messaging_setting_id=messaging_setting_id,
            )
        )
        created = self.request("POST", INTEGRATIONS, json_body=body)
        self.forget_integration()
        return created

    def patch_integration(self, integration_id: str, **fields: Any) -> dict:
        """Update fields (`name`, `webhook_url`, `webhook_secret`, `webhook_headers`, …)."""
        body = wire.integration_fields(fields)
        updated = self.request("PATCH", f"{INTEGRATIONS}/{seg(integration_id)}", json_body=body)
        self.forget_integration()
        return updated

    def delete_integration(self, integration_id: str) -> None:
        """Delete an integration."""
        self.request("DELETE", f"{INTEGRATIONS}/{seg(integration_id)}")
        self.forget_integration()

    def integration_id_for(self, deployment_name: str) -> str:
        """Id of the integration named `deployment_name` (exact, else case-insensitive); cached."""
        with self._integrations_lock:
            cached = self._integration_ids.get(deployment_name)
            if cached is not None:
                return cached
            # Genesys has no name filter on this route: page the whole list and match locally.
            entities = self.list_integrations()
            match = next((e for e in entities if e.get("name") == deployment_name), None)
            if match is None:
                folded = deployment_name.casefold()
                match = next(
                    (e for e in entities if str(e.get("name", "")).casefold() == folded), None
                )
            if match is None:
                raise IntegrationNotFoundError(
                    deployment_name, [str(e.get("name")) for e in entities]
                )
            self._integration_ids[deployment_name] = match["id"]
            return match["id"]

    def forget_integration(self, deployment_name: str | None = None) -> None:
        """Drop one cached name → id mapping, or all of them."""
        with self._integrations_lock:
            if deployment_name is None:
                self._integration_ids.clear()
            else:
                self._integration_ids.pop(deployment_name, None)

    # -- Inbound Open Messaging (docs/reference/genesys-open-messaging.md §3, §4) --

    def send_message(
        self,
        integration_id: str,
        customer: Customer,
        *,
        message_id: str,
        text: str | None = None,
        content: list | None = None,
        time: datetime | str | None = None,
        custom_attributes: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        prefetch_conversation_id: bool = True,
    ) -> dict:
        """Post a customer message; `message_id` is fixed before the call, so retries repeat it."""
        body = wire.message_body(
            customer,
            message_id,
            text=text,
            content=content,
            time=time,
            custom_attributes=custom_attributes,
            metadata=metadata,
        )
        params = {"prefetchConversationId": "true"} if prefetch_conversation_id else None
        return self.request(
            "POST",
            f"{MESSAGES}/{seg(integration_id)}/inbound/open/message",
            params=params,
            json_body=body,
        )

    def send_typing(
        self, integration_id: str, customer: Customer, time: datetime | str | None = None
    ) -> dict:
        """Tell the agent the customer is typing."""
        return self.request(
            "POST",
            f"{MESSAGES}/{seg(integration_id)}/inbound/open/event",
            json_body=wire.typing_body(customer, time),
        )

    def send_receipt(
        self,
        integration_id: str,
        genesys_message_id: str,
        customer_id: str,
        status: str = "Delivered",
        *,
        reasons: list[dict] | None = None,
        is_final: bool = True,
        time: datetime | str | None = None,
    ) -> dict:
        """Report an agent message as Delivered or Failed (with reasons) to the customer."""
        body = wire.receipt_body(
            genesys_message_id, customer_id, status, reasons=reasons, is_final=is_final, time=time
        )
        return self.request(
            "POST", f"{MESSAGES}/{seg(integration_id)}/inbound/open/receipt", json_body=body
        )

    def send_structured_response(
        self,
        integration_id: str,
        customer: Customer,
        *,
        message_id: str,
        text: str,
        payload: str,
        originating_message_id: str,
        response_type: str = "QuickReply",
        time: datetime | str | None = None,
    ) -> dict:
        """Answer an agent's quick reply / button message with the customer's choice."""
        body = wire.structured_response_body(
            customer,
            message_id,
            text=text,
            payload=payload,
            originating_message_id=originating_message_id,
            response_type=response_type,
            time=time,
        )
        return self.request(
            "POST",
            f"{MESSAGES}/{seg(integration_id)}/inbound/open/structured/response",
            json_body=body,
        )

    # -- Conversations, users, queues (docs/reference/genesys-open-messaging.md §9) --

    def get_message_conversation(self, conversation_id: str) -> dict:
        """`MessageConversation` with participants, states and disconnect types."""
        return self.request("GET", f"{MESSAGES}/{seg(conversation_id)}")

    def get_messages(self, conversation_id: str, message_ids: list[str]) -> list[dict]:
        """`MessageData` of the given messages of a conversation (`POST .../messages/bulk`, a
        `TextMessageListing`); Genesys takes at most `MAX_BULK_MESSAGES` ids per call."""
        if not message_ids or len(message_ids) > MAX_BULK_MESSAGES:
            raise ValueError(messages.bulk_size(len(message_ids), MAX_BULK_MESSAGES))
        data = self.request(
            "POST", f"{MESSAGES}/{seg(conversation_id)}/messages/bulk", json_body=message_ids
        )
        entities = (data or {}).get("entities") if isinstance(data, dict) else None
        return [e for e in entities or [] if isinstance(e, dict)]

    def get_conversation(self, conversation_id: str) -> dict:
        """The generic `Conversation` view (all media)."""
        return self.request("GET", f"/api/v2/conversations/{seg(conversation_id)}")

    def patch_participant(self, conversation_id: str, participant_id: str, body: dict) -> Any:
        """Change a participant (`MediaParticipantRequest`, e.g. `{"state": "disconnected"}`)."""
        return self.request(
            "PATCH",
            f"{MESSAGES}/{seg(conversation_id)}/participants/{seg(participant_id)}",
            json_body=body,
        )

    def get_user(self, user_id: str) -> dict:
        """A user (agent name, images), cached per id for `user_cache_ttl` seconds."""
        clock = self._transport.policy.clock
        with self._users_lock:
            hit = self._users.get(user_id)
            if hit is not None and clock() < hit[0]:
                return hit[1]
        user = self.request("GET", f"/api/v2/users/{seg(user_id)}")
        with self._users_lock:
            now = clock()
            if len(self._users) > 4096:  # drop expired entries so the cache stays bounded
                self._users = {k: v for k, v in self._users.items() if v[0] > now}
            self._users[user_id] = (now + self._user_ttl, user)
        return user

    def get_queue(self, queue_id: str) -> dict:
        """A routing queue."""
        return self.request("GET", f"/api/v2/routing/queues/{seg(queue_id)}")

    def exists(self, path: str) -> bool:
        """HEAD `path`: True on 2xx, False on 404; other errors raise."""
        try:
            self.request("HEAD", path)
        except NotFoundError:
            return False
        return True
