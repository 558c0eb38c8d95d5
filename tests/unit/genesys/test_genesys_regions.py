"""Host normalisation for all 18 Genesys Cloud regions, the base-URL override and unknown hosts."""

from __future__ import annotations

import pytest
from PureCloudPlatformClientV2.purecloud_region_hosts import PureCloudRegionHosts

from om_bridge.bridge.genesys import REGIONS, UnknownRegionError, resolve_hosts

FORMS = [
    "{d}",
    "api.{d}",
    "login.{d}",
    "apps.{d}",
    "https://{d}",
    "http://{d}",
    "https://api.{d}/",
    "https://login.{d}/oauth/token",
    "https://apps.{d}/directory/#/",
    "  {d}  ",
    "{d}/",
    "{D}",
    "HTTPS://API.{D}/",
    "Apps.{D}\n",
]


def test_eighteen_regions_match_the_sdk():
    assert len(REGIONS) == 18
    sdk = {r.name: r.value for r in PureCloudRegionHosts}
    assert {r.name: r.api_base for r in REGIONS} == sdk


@pytest.mark.parametrize("region", REGIONS, ids=lambda r: r.name)
@pytest.mark.parametrize("form", FORMS)
def test_every_region_in_every_form(region, form):
    host = form.format(d=region.domain, D=region.domain.upper())
    hosts = resolve_hosts(host)
    assert hosts.api_base == f"https://api.{region.domain}"
    assert hosts.login_base == f"https://login.{region.domain}"
    assert hosts.region == region


def test_base_url_override_uses_one_base_for_api_and_login():
    hosts = resolve_hosts(None, base_url="http://127.0.0.1:8081/")
    assert (hosts.api_base, hosts.login_base, hosts.region) == (
        "http://127.0.0.1:8081",
        "http://127.0.0.1:8081",
        None,
    )
    # The override wins even when a region host is configured too.
    assert (
        resolve_hosts("mypurecloud.de", base_url="http://127.0.0.1:9").api_base
        == "http://127.0.0.1:9"
    )


def test_unknown_host_names_host_and_lists_domains():
    with pytest.raises(UnknownRegionError) as info:
        resolve_hosts("mypurecloud.example")
    text = str(info.value)
    assert "mypurecloud.example" in text
    for region in REGIONS:
        assert region.domain in text
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("host", ["", "   ", None])
def test_empty_host_is_an_error(host):
    with pytest.raises(UnknownRegionError, match="No Genesys Cloud host"):
        resolve_hosts(host)


def test_lookalike_domain_is_rejected():
    # A suffix match would accept an attacker's domain; only exact region domains are allowed.
    with pytest.raises(UnknownRegionError):
        resolve_hosts("evil-mypurecloud.de")
    with pytest.raises(UnknownRegionError):
        resolve_hosts("api.mypurecloud.de.evil.com")
