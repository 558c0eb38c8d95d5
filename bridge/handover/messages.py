"""Texts of the handover engine: what users and agents read, what operators see in the logs."""

from __future__ import annotations

from typing import Final

# -- said to the agent (Genesys inbound text) -- Cognigy's "Configure Handover Settings" wording --
USER_JOINED: Final = "User joined the conversation"
USER_LEFT: Final = "User left the conversation"
USER_ENDED_REASON: Final = "the user left the conversation"

# -- the transcript that opens every handover (one message, Cognigy 4.89 behaviour) --
TRANSCRIPT_HEADER: Final = "Transcript:"
TRANSCRIPT_EMPTY: Final = "Transcript: (no messages before the handover)"
TRANSCRIPT_SPEAKERS: Final = {"user": "User", "bot": "Bot", "agent": "Agent"}
# Cognigy's marker for a message the transcript cannot render as text (a data-only output).
UNSUPPORTED_STRUCTURE_DATA: Final = "UNSUPPORTED_STRUCTURE_DATA"

# -- input.handover.error.message when the provider may not be used --
UNSUPPORTED_PROVIDER_TYPE: Final = (
    'handover provider "{provider}" has type "{type}"; only "genesysCloudOM" is supported'
)
UNKNOWN_PROVIDER: Final = 'handover provider "{provider}" is not configured'
NO_PROVIDER: Final = (
    'no handover provider: set handover_provider on endpoint "{url_token}" '
    "or a provider on the Handover node"
)
HANDOVER_ALREADY_OPEN: Final = "a handover is already in progress for this session"
START_FAILED: Final = "the handover could not be started: {error}"

# -- said to the user (system output) when Genesys will never get something they sent --
UNDELIVERED: Final = "This message could not be delivered to the agent: {text}"
UNDELIVERED_ENDED: Final = (
    "This message could not be delivered to the agent because the conversation had ended: {text}"
)

# -- Failed receipt reasons (Genesys ConversationReason.message) --
RECEIPT_NO_HANDOVER: Final = "no open handover for this customer"
RECEIPT_DELIVERY_FAILED: Final = "the message could not be delivered to the user"

# -- logs: outcomes and ids only, never message texts, payloads or secrets --
LOG_OUTBOX_SENT: Final = "outbox item %s (%s) for %s sent after %d attempt(s)"
LOG_OUTBOX_RETRY: Final = "outbox item %s (%s) for %s: %s; retry in %.2fs"
LOG_OUTBOX_LEASE_LOST: Final = (
    "outbox item %s (%s) for %s: its lease passed to another process meanwhile; left to it"
)
LOG_CONVERSATION_CHANGED: Final = (
    "handover %s: Genesys moved the customer from conversation %s to %s; following it"
)
LOG_OUTBOX_DEAD: Final = "outbox item %s (%s) for %s dead-lettered: %s"
LOG_OUTBOX_ALERT: Final = "outbox item %s (%s) for %s cannot be delivered until fixed: %s"
LOG_OUTBOX_TYPING_EXPIRED: Final = "typing event %s for %s dropped: older than %.1fs"
LOG_OUTBOX_HANDOVER_ENDED: Final = "outbox item %s (%s) dropped: handover %s already ended"
HANDOVER_ENDED_REASON: Final = "handover ended before delivery"
LOG_OUTBOX_CRASH: Final = "outbox dispatcher error; continuing"
LOG_HANDOVER_STARTED: Final = "handover %s started for session %s (provider %s)"
LOG_HANDOVER_REFUSED: Final = "handover refused for session %s: %s"
LOG_HANDOVER_STATUS: Final = "handover %s: %s -> %s"
LOG_HANDOVER_ENDED: Final = "handover %s ended: %s (%s)"
LOG_LINE_NOT_KEPT: Final = "handover %s: an agent line could not be kept for the transcript"
LOG_OUTCOME_LOOKUP_FAILED: Final = (
    "handover %s: conversation or agent not read for the outcome (%s); using what is known"
)
LOG_HANDOVER_END_DUPLICATE: Final = "handover %s already ended; end request (%s) ignored"
LOG_NO_HANDOVER: Final = (
    "webhook %s: no open handover for integration %s; answered with a Failed receipt"
)
LOG_NO_HANDOVER_EVENT: Final = "webhook %s (%s): no open handover for integration %s; ignored"
LOG_BOT_MESSAGE_HIDDEN: Final = (
    "webhook %s: Genesys bot message not shown (GENESYS_CLOUD_OM_HANDLE_BOT_MESSAGE is off)"
)
LOG_RECEIPT: Final = "webhook %s: receipt %s for handover %s"
LOG_UNHANDLED_TYPE: Final = "webhook %s: message type %r not handled; ignored"
LOG_DELIVERY_FAILED: Final = (
    "webhook %s: delivery to the user failed (%s); answered with a Failed receipt"
)
LOG_AGENT_LOOKUP_FAILED: Final = "handover %s: agent details lookup failed: %s"
LOG_FLOW_ERROR: Final = "session %s: flow error at node %s: %s"
LOG_TRACK_FAILED: Final = "handover %s: completion tracking call failed"
LOG_WEBHOOK_INPUT_FAILED: Final = "webhook %s: handling failed"
LOG_INBOUND_RETRY: Final = "inbound item %s (webhook %s): handling failed (%s); retry in %.2fs"
LOG_INBOUND_DEAD: Final = (
    "inbound item %s (webhook %s): handling failed %d times (%s); dead-lettered"
)
LOG_INBOUND_CRASH: Final = "inbound dispatcher error; continuing"
LOG_RECEIPT_FAILED: Final = "receipt (%s) for webhook %s not sent: %s"
LOG_RECEIPT_DROPPED: Final = (
    "receipt (%s) for webhook %s dropped: shutting down, or too many receipts waiting"
)
LOG_BACKFILL_READ_FAILED: Final = (
    "backfill of handover %s: conversation %s not read (%s); tried again in %ds"
)
LOG_BACKFILL_DELIVERED: Final = (
    "backfill of handover %s: %d agent message(s) Genesys did not deliver queued for the user"
)
LOG_BACKFILL_CRASH: Final = "backfill of handover %s failed; continuing"
