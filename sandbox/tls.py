"""HTTPS for the sandbox's servers (the Genesys sandbox and the Cognigy emulator): one server TLS
context from a PEM certificate chain and its private key, as an operator passes them with
`--tls-cert FILE --tls-key FILE`."""

from __future__ import annotations

import ssl

from om_bridge.sandbox import messages


def tls_context(cert: str | None, key: str | None) -> ssl.SSLContext | None:
    """A server TLS context for the certificate chain `cert` and its key `key` (PEM files);
    None when neither is given, ValueError naming the problem when only one is or they do not
    load."""
    if not cert and not key:
        return None
    if not cert or not key:
        raise ValueError(messages.TLS_NEEDS_BOTH)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(messages.TLS_UNUSABLE.format(cert=cert, key=key, error=exc)) from None
    return context
