"""`om-bridge check` / `provision` with no configuration anywhere say so, and where they looked
(instead of "the configuration om-bridge.toml has no [[providers]]")."""

from __future__ import annotations

import pytest

from om_bridge.bridge import cli


@pytest.mark.parametrize("command", ["check", "provision"])
def test_no_configuration_anywhere_names_the_places_looked(command, tmp_path, monkeypatch, capsys):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OM_BRIDGE_CONFIG", raising=False)
    data_dir = tmp_path / "state"
    assert cli.main([command, "--data-dir", str(data_dir)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"om-bridge {command}: no configuration found (looked for ")
    assert "$OM_BRIDGE_CONFIG (not set)" in err
    assert str(tmp_path / "om-bridge.toml") in err
    assert str(data_dir / "om-bridge.toml") in err
    assert "[[providers]]" not in err
    assert not data_dir.exists()  # nothing written


def test_a_configuration_without_providers_still_says_that(tmp_path, monkeypatch, capsys):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OM_BRIDGE_CONFIG", raising=False)
    (tmp_path / "om-bridge.toml").write_text("[bridge]\n", encoding="utf-8")
    assert cli.main(["check"]) == 2
    assert "has no [[providers]]" in capsys.readouterr().err
