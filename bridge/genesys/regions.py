"""Genesys Cloud regions and host normalisation: any host form → API and login bases."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from . import messages
from .errors import UnknownRegionError


@dataclass(frozen=True, slots=True)
class Region:
    """One Genesys Cloud region: SDK key, AWS region and base domain (docs/reference/genesys-open-messaging.md §1.1)."""

    name: str
    aws_region: str
    domain: str

    @property
    def api_base(self) -> str:
        return f"https://api.{self.domain}"

    @property
    def login_base(self) -> str:
        return f"https://login.{self.domain}"


# Same keys and domains as PureCloudPlatformClientV2.PureCloudRegionHosts (SDK 269).
REGIONS: tuple[Region, ...] = (
    Region("us_east_1", "us-east-1", "mypurecloud.com"),
    Region("us_east_2", "us-east-2", "use2.us-gov-pure.cloud"),
    Region("us_west_2", "us-west-2", "usw2.pure.cloud"),
    Region("ca_central_1", "ca-central-1", "cac1.pure.cloud"),
    Region("sa_east_1", "sa-east-1", "sae1.pure.cloud"),
    Region("mx_central_1", "mx-central-1", "mxc1.pure.cloud"),
    Region("eu_west_1", "eu-west-1", "mypurecloud.ie"),
    Region("eu_west_2", "eu-west-2", "euw2.pure.cloud"),
    Region("eu_central_1", "eu-central-1", "mypurecloud.de"),
    Region("eu_central_2", "eu-central-2", "euc2.pure.cloud"),
    Region("eusc_de_east_1", "eusc-de-east-1", "edee1.eusc-pure.cloud"),
    Region("me_central_1", "me-central-1", "mec1.pure.cloud"),
    Region("ap_south_1", "ap-south-1", "aps1.pure.cloud"),
    Region("ap_southeast_1", "ap-southeast-1", "apse1.pure.cloud"),
    Region("ap_southeast_2", "ap-southeast-2", "mypurecloud.com.au"),
    Region("ap_northeast_1", "ap-northeast-1", "mypurecloud.jp"),
    Region("ap_northeast_2", "ap-northeast-2", "apne2.pure.cloud"),
    Region("ap_northeast_3", "ap-northeast-3", "apne3.pure.cloud"),
)

_BY_DOMAIN = {r.domain: r for r in REGIONS}
# Users paste the API, login or web-app host; Cognigy asks for the bare domain
# "omitting apps. or login.", so all three prefixes are stripped.
_HOST_PREFIXES = ("api.", "login.", "apps.")


@dataclass(frozen=True, slots=True)
class Hosts:
    """Where API calls and token requests go; `region` is None for a base-URL override."""

    api_base: str
    login_base: str
    region: Region | None


def domain_of(host: str) -> str:
    """Reduce `host` (bare domain, prefixed host or URL, any case) to a lowercase domain."""
    text = host.strip()
    if "://" in text:
        text = urlsplit(text).hostname or ""
    else:
        text = text.split("/", 1)[0]
    text = text.strip().rstrip(".").lower()
    for prefix in _HOST_PREFIXES:
        if text.startswith(prefix):
            return text[len(prefix) :]
    return text


def region_for(host: str) -> Region:
    """The region whose domain `host` names; UnknownRegionError otherwise."""
    region = _BY_DOMAIN.get(domain_of(host))
    if region is None:
        raise UnknownRegionError(host, [r.domain for r in REGIONS])
    return region


def resolve_hosts(host: str | None, base_url: str | None = None) -> Hosts:
    """API and login bases for `host`; `base_url` (e.g. the sandbox) overrides both when given."""
    if base_url and base_url.strip():
        base = base_url.strip().rstrip("/")
        return Hosts(api_base=base, login_base=base, region=None)
    if host is None or not host.strip():
        raise UnknownRegionError("", [r.domain for r in REGIONS], messages.empty_host())
    region = region_for(host)
    return Hosts(api_base=region.api_base, login_base=region.login_base, region=region)
