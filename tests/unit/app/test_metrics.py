"""The Metrics wrapper: get-or-create by name, one registry per app, text exposition."""

from __future__ import annotations

import pytest

from om_bridge.bridge.logs import redaction_filter
from om_bridge.bridge.metrics import Metrics


def test_same_name_gives_the_same_metric_with_prefix():
    m = Metrics()
    c1 = m.counter("messages_total", "msgs", ["direction"])
    c2 = m.counter("om_bridge_messages_total")
    assert c1 is c2
    c1.labels("to_agent").inc()
    c1.labels("to_agent").inc()
    assert 'om_bridge_messages_total{direction="to_agent"} 2.0' in m.render().decode()


def test_registries_are_independent():
    a, b = Metrics(), Metrics()
    a.counter("x_total").inc()
    assert "om_bridge_x_total 1.0" in a.render().decode()
    assert "om_bridge_x_total" not in b.render().decode()


def test_kind_clash_is_an_error():
    m = Metrics()
    m.counter("thing")
    with pytest.raises(ValueError, match="already registered as Counter"):
        m.gauge("thing")


def test_histogram_and_gauge_render():
    m = Metrics()
    m.histogram("latency_seconds", "lat", ["route"], buckets=(0.1, 1)).labels("/x").observe(0.5)
    m.gauge("depth").set(7)
    text = m.render().decode()
    assert 'om_bridge_latency_seconds_bucket{le="1.0",route="/x"} 1.0' in text
    assert "om_bridge_depth 7.0" in text


def test_render_masks_known_secrets():
    redaction_filter().add_secrets(["metric-leak-secret-value"])
    m = Metrics()
    m.counter("errors_total", "e", ["detail"]).labels("metric-leak-secret-value").inc()
    assert "metric-leak-secret-value" not in m.render().decode()
