"""The run cache: a warm run returns exactly what a cold run of the same tree returns, after
no change, after an edit the analysis cannot see, and after one it can."""

from __future__ import annotations

import json
import textwrap

import pytest

from controlplane.migrations_audit import AuditConfig, Suppression, audit, cache, engine
from controlplane.migrations_audit.extract import extract
from controlplane.migrations_audit.formatters import get_formatter
from controlplane.migrations_audit.report_codec import encode, report_from_json
from controlplane.migrations_audit.run_cache import facts_without_line_count

from .test_audit_cache import ROUTES as CACHE_ROUTES
from .test_audit_cache import TASKS

# a call whose text holds what facts do not record (arithmetic in its arguments)
ROUTES = CACHE_ROUTES.replace(
    'requests.get("https://example.com/{n}")',
    'requests.get("https://example.com/" + "{n}", timeout=1 + 2)',
)


def project(count: int = 3) -> dict[str, str]:
    files = {"tasks.py": TASKS, "pkg/broken.py": "def nope(:\n"}
    for n in range(count):
        files[f"pkg/m{n}.py"] = ROUTES.replace("{n}", str(n))
    return files


def as_json(report) -> dict:
    return json.loads(get_formatter("json")(report))


@pytest.fixture
def no_analysis(monkeypatch):
    """Make the analysis after parsing fail, to show a run was answered from the cache."""

    def refuse(*args, **kwargs):
        raise AssertionError("the analysis ran")

    monkeypatch.setattr(engine, "_analyse", refuse)


def test_a_warm_run_returns_the_cold_report_whole(tree, tmp_path, request):
    root = tree(project())
    config = AuditConfig(
        feature_root="pkg", suppressions=(Suppression("pkg/m2.py", "go_2", "nightly"),)
    )
    plain = audit(root, config, jobs=1)
    cold = audit(root, config, jobs=1, cache_dir=tmp_path / "cache")
    request.getfixturevalue("no_analysis")
    warm = audit(root, config, jobs=1, cache_dir=tmp_path / "cache")
    assert warm == cold == plain  # every field: features, suppressed, files, lines
    assert get_formatter("json")(warm) == get_formatter("json")(plain)
    assert [s.endpoint.handler for s in warm.suppressed] == ["go_2"]
    assert warm.lines == plain.lines > 0 and warm.files == plain.files == 5


def test_an_edit_the_analysis_cannot_see_reuses_the_report_with_new_totals(tree, tmp_path, request):
    root = tree(project())
    audit(root, AuditConfig(), jobs=1, cache_dir=tmp_path / "cache")
    path = root / "pkg/m1.py"
    path.write_text(path.read_text() + "\n# edited between two audits\n\n")
    cold = audit(root, AuditConfig(), jobs=1)
    request.getfixturevalue("no_analysis")
    warm = audit(root, AuditConfig(), jobs=1, cache_dir=tmp_path / "cache")
    assert warm == cold
    assert as_json(warm) == as_json(cold)
    # the next run finds every key as recorded
    assert audit(root, AuditConfig(), jobs=1, cache_dir=tmp_path / "cache") == cold


def test_a_quoted_line_that_changed_is_quoted_anew(tree, tmp_path):
    root = tree(project())
    cache_dir = tmp_path / "cache"
    before = audit(root, AuditConfig(), jobs=1, cache_dir=cache_dir)
    path = root / "pkg/m1.py"
    text = path.read_text()
    path.write_text(text.replace("timeout=1 + 2", "timeout=3 + 4"))
    # the facts are the same: only the quoted line tells the stored report is stale
    same = [extract(t.encode(), "pkg/m1.py") for t in (text, path.read_text())]
    assert facts_without_line_count(same[0]) == facts_without_line_count(same[1])
    warm = audit(root, AuditConfig(), jobs=1, cache_dir=cache_dir)
    assert as_json(warm) == as_json(audit(root, AuditConfig(), jobs=1))
    quoted = {e.call for p in warm.endpoints if p.handler == "fetch_1" for e in p.evidence}
    assert quoted == {'requests.get("https://example.com/" + "1", timeout=3 + 4)'}
    assert as_json(warm) != as_json(before)


def test_an_edit_the_analysis_sees_is_analysed(tree, tmp_path):
    root = tree(project())
    cache_dir = tmp_path / "cache"
    audit(root, AuditConfig(), jobs=1, cache_dir=cache_dir)
    path = root / "pkg/m1.py"
    path.write_text(path.read_text().replace("crunch.delay(1)", "crunch(1)"))
    warm = audit(root, AuditConfig(), jobs=1, cache_dir=cache_dir)
    assert warm == audit(root, AuditConfig(), jobs=1)
    statuses = {e.handler: e.status for e in warm.endpoints}
    assert statuses["go_1"] == "inline" and statuses["go_2"] == "offloaded"


def test_files_added_removed_or_broken_are_analysed(tree, tmp_path):
    root = tree(project())
    cache_dir = tmp_path / "cache"
    audit(root, AuditConfig(), jobs=1, cache_dir=cache_dir)
    (root / "pkg/m3.py").write_text(textwrap.dedent(ROUTES.replace("{n}", "3")))
    added = audit(root, AuditConfig(), jobs=1, cache_dir=cache_dir)
    assert added == audit(root, AuditConfig(), jobs=1) and len(added.endpoints) == 8
    (root / "pkg/m0.py").unlink()
    removed = audit(root, AuditConfig(), jobs=1, cache_dir=cache_dir)
    assert removed == audit(root, AuditConfig(), jobs=1) and len(removed.endpoints) == 6
    (root / "pkg/m1.py").write_text("def broken(:\n")
    broken = audit(root, AuditConfig(), jobs=1, cache_dir=cache_dir)
    assert broken == audit(root, AuditConfig(), jobs=1) and len(broken.endpoints) == 4
    assert {s.file for s in broken.skipped} == {"pkg/broken.py", "pkg/m1.py"}


def test_another_config_or_another_analyser_does_not_reuse_a_report(tree, tmp_path, monkeypatch):
    root = tree(project())
    cache_dir = tmp_path / "cache"
    plain = audit(root, AuditConfig(), jobs=1)
    audit(root, AuditConfig(), jobs=1, cache_dir=cache_dir)
    suppressed = AuditConfig(suppressions=(Suppression("pkg/*", "", "legacy"),))
    report = audit(root, suppressed, jobs=1, cache_dir=cache_dir)
    assert report.endpoints == [] and len(report.suppressed) == 6
    ran: list[int] = []
    analyse = engine._analyse

    def counting(*args, **kwargs):
        ran.append(1)
        return analyse(*args, **kwargs)

    monkeypatch.setattr(engine, "_analyse", counting)
    audit(root, AuditConfig(), jobs=1, cache_dir=cache_dir)
    assert ran == []  # the first config's entry is still there
    monkeypatch.setattr(cache, "_fingerprint", ["an edited analyser"])
    again = audit(root, AuditConfig(), jobs=1, cache_dir=cache_dir)
    assert ran == [1] and again == plain
    # one entry per tree and config: the new analyser's replaced the old one's
    assert len(list(cache_dir.rglob("runs/*.json"))) == 2
    audit(root, AuditConfig(), jobs=1, cache_dir=cache_dir)
    assert ran == [1]


def test_a_corrupt_run_entry_is_a_miss_not_a_crash(tree, tmp_path):
    root = tree(project())
    cache_dir = tmp_path / "cache"
    first = audit(root, AuditConfig(), jobs=1, cache_dir=cache_dir)
    (entry,) = cache_dir.rglob("runs/*.json")
    for garbage in (b"{not json", b"[]", json.dumps({"keys": {}, "quoted": {}}).encode()):
        entry.write_bytes(garbage)
        assert audit(root, AuditConfig(), jobs=1, cache_dir=cache_dir) == first
    document = json.loads(entry.read_text())
    document["report"]["@record"] = "Nonsense"
    entry.write_text(json.dumps(document))
    assert audit(root, AuditConfig(), jobs=1, cache_dir=cache_dir) == first


def test_the_codec_carries_every_field(tree):
    root = tree(project())
    config = AuditConfig(suppressions=(Suppression("pkg/m0.py", "", "legacy"),))
    report = audit(root, config, jobs=1)
    back = report_from_json(json.loads(json.dumps(encode(report))))
    assert back == report
    assert isinstance(back.endpoints[0].evidence, tuple)
    assert isinstance(back.endpoints[0].evidence[0].via, tuple)
    assert back.suppressed[0].reason == "legacy"
