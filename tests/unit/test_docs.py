"""The documentation in docs/ stays in step with the code: every setup step `om-bridge check` names
is a heading of docs/genesys-setup.md, every step title it prints has a section in
docs/troubleshooting.md, the index links every page, and relative links resolve."""

from __future__ import annotations

import re
from pathlib import Path

from om_bridge.bridge.completion import messages as completion_messages
from om_bridge.bridge.setup import messages as setup_messages
from om_bridge.bridge.setup.probes import PROBES

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def headings(page: str) -> set[str]:
    text = (DOCS / page).read_text(encoding="utf-8")
    return {m.group(1).strip() for m in re.finditer(r"^#{2,4} (.+)$", text, re.M)}


def test_every_setup_step_check_names_is_a_heading_of_the_setup_guide():
    steps = {
        value
        for name, value in vars(setup_messages).items()
        if name.startswith("SEED_") and isinstance(value, str)
    }
    steps.add(completion_messages.SEED_CREDENTIALS)
    assert sorted(steps - headings("genesys-setup.md")) == []


def check_step_titles() -> set[str]:
    titles = {
        value
        for name, value in vars(setup_messages).items()
        if name.startswith("T_") and isinstance(value, str)
    }
    titles |= {setup_messages.t_permission(p.permission) for p in PROBES}
    wiring = (ROOT / "bridge" / "completion" / "wiring.py").read_text(encoding="utf-8")
    names = set(re.findall(r"WiringCheck\(\s*messages\.(W_[A-Z_]+)", wiring))
    assert "W_MODE" in names and "W_NOTIF_SOCKET" in names  # the scan finds the checks
    titles |= {setup_messages.t_completion(getattr(completion_messages, n)) for n in names}
    titles.add(setup_messages.t_completion("wiring"))
    return titles


def test_every_step_check_prints_has_a_troubleshooting_section():
    assert sorted(check_step_titles() - headings("troubleshooting.md")) == []


def test_the_index_links_every_page_and_relative_links_resolve():
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    for page in sorted(DOCS.rglob("*.md")):
        rel = page.relative_to(DOCS).as_posix()
        if rel != "README.md" and not rel.startswith("reference/"):
            assert f"({rel})" in index, f"docs/README.md does not link {rel}"
    for page in [*DOCS.rglob("*.md"), ROOT / "README.md"]:
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            path = target.split("#", 1)[0]
            if path == "cognigy-setup.md" and not (DOCS / path).exists():
                continue  # written with the Cognigy-hosted mode
            assert (page.parent / path).exists(), f"{page.relative_to(ROOT)} links {target}"


def test_the_readme_is_an_entrance_that_begins_with_the_two_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.encode("utf-8")) <= 12 * 1024, "README.md: the manual lives in docs/"
    first_block = text.split("```", 2)[1]
    assert "make run" in first_block and "make test" in first_block


def test_the_repository_keeps_only_the_latest_benchmark_run():
    import shutil
    import subprocess

    import pytest

    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(
        ["git", "ls-files", "bench/results"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert listed == ["bench/results/latest.json"]
    ignore = (ROOT / ".gitignore").read_text(encoding="utf-8")
    assert "bench/results/*.json" in ignore and "!bench/results/latest.json" in ignore
