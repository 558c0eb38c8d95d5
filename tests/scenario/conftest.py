"""Scenario fixtures: a sandbox + bridge pair per test (see `tests/scenario/harness.py`).

Options come from a marker::

    @pytest.mark.bridge_env(flags={"GENESYS_CLOUD_OM_HANDLE_BOT_MESSAGE": "false"},
                            config={"providers": [{"id": "genesys-demo", "send_profile": True}]})
    def test_x(bridge_env): ...

or from the factory fixture `make_bridge_env(**options)` for tests that need several.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.scenario.harness import BridgeEnv


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "bridge_env(**options): options of the bridge_env fixture")


@pytest.fixture
def make_bridge_env(tmp_path) -> Iterator[Callable[..., BridgeEnv]]:  # type: ignore[no-untyped-def]
    made: list[BridgeEnv] = []

    def make(**options) -> BridgeEnv:  # type: ignore[no-untyped-def]
        env = BridgeEnv(tmp_path / f"env{len(made)}", **options)
        made.append(env)
        return env

    yield make
    for env in reversed(made):
        env.close()


@pytest.fixture
def bridge_env(request, make_bridge_env) -> BridgeEnv:  # type: ignore[no-untyped-def]
    marker = request.node.get_closest_marker("bridge_env")
    return make_bridge_env(**(marker.kwargs if marker else {}))
