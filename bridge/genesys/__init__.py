"""Genesys Cloud client: regions, OAuth, retries, typed errors, Open Messaging, signatures."""

from .auth import TokenProvider
from .client import GenesysClient
from .errors import (
    AuthenticationError,
    BadRequestError,
    DeadlineExceededError,
    GenesysConnectionError,
    GenesysError,
    IntegrationNotFoundError,
    InvalidClientError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    UnknownRegionError,
)
from .regions import REGIONS, Hosts, Region, resolve_hosts
from .retry import RetryPolicy
from .signature import compute_signature, verify_signature
from .wire import SDK_MODELS, Customer

__all__ = [
    "REGIONS",
    "SDK_MODELS",
    "AuthenticationError",
    "BadRequestError",
    "Customer",
    "DeadlineExceededError",
    "GenesysClient",
    "GenesysConnectionError",
    "GenesysError",
    "Hosts",
    "IntegrationNotFoundError",
    "InvalidClientError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "Region",
    "RetryPolicy",
    "ServerError",
    "TokenProvider",
    "UnknownRegionError",
    "compute_signature",
    "resolve_hosts",
    "verify_signature",
]
