"""The reliability suite's bookkeeping: every test names its fault, and each run's outcomes feed the README table.

Each test's docstring opens with ``Fault: <what the test injects>`` and has a ``Survives: <what Parley does>``
paragraph; ``{id}`` in either is replaced by a parametrised test's case id. The outcome of every test is
written to ``build/reliability-results.json`` (or ``$PARLEY_SURVIVAL_JSON``) when the session ends, merged
with the results of earlier partial runs; `python -m tests.reliability.survival_table` turns it into Markdown.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.survival_table import ROOT, results_path

_FIELD = re.compile(r"^(Fault|Survives):\s*(.+?)(?=\n\s*\n|\n\s*(?:Fault|Survives):|\Z)", re.S | re.M)

_results: dict[str, dict[str, Any]] = {}
_collected: dict[str, int] = {}


def describe(item: pytest.Item) -> dict[str, str]:
    """The fault and the expected survival a test's docstring names (empty strings when missing)."""
    function = getattr(item, "function", None)
    doc = inspect.cleandoc(function.__doc__ or "") if function is not None else ""
    fields = {name.lower(): " ".join(text.split()) for name, text in _FIELD.findall(doc)}
    case = item.callspec.id if hasattr(item, "callspec") else ""
    module = getattr(item, "module", None)
    return {
        "area": str(getattr(module, "AREA", "")),
        "fault": fields.get("fault", "").replace("{id}", case),
        "survives": fields.get("survives", "").replace("{id}", case),
    }


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    ours = [item for item in items if here in Path(str(item.path)).parents]
    _collected.update((item.nodeid, position) for position, item in enumerate(ours))
    unnamed = [item.nodeid for item in ours if not (describe(item)["fault"] and describe(item)["survives"])]
    # Qt's offscreen platform warns whenever a shown window's minimum size changes; a real display does not.
    quiet = pytest.mark.qt_log_ignore(r"^This plugin does not support propagateSizeHints\(\)$")
    for item in ours:
        item.add_marker(quiet)
    if unnamed:
        raise pytest.UsageError(
            "Every reliability test names its fault: start the docstring with 'Fault: ...' and add "
            "'Survives: ...'. Missing in: " + ", ".join(unnamed)
        )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" or (report.when == "setup" and not report.passed):
        record = _results.setdefault(
            item.nodeid, {"nodeid": item.nodeid, "position": _collected.get(item.nodeid, 0), **describe(item)}
        )
        record["outcome"] = "skipped" if report.skipped else "passed" if report.passed else "failed"
        record["seconds"] = round(report.duration, 2)
        if report.skipped and isinstance(report.longrepr, tuple):
            record["reason"] = str(report.longrepr[2]).removeprefix("Skipped: ")


def pytest_sessionfinish(session: pytest.Session) -> None:
    if not _results:
        return
    path = results_path()
    previous: dict[str, Any] = {}
    if path.exists():
        try:
            previous = {entry["nodeid"]: entry for entry in json.loads(path.read_text(encoding="utf-8"))["tests"]}
        except (OSError, ValueError, KeyError, TypeError):
            previous = {}
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    for record in _results.values():
        record["run_at"] = stamp
    # Results of earlier partial runs stay, unless their test is gone: its file was run now without
    # it, or the file no longer exists.
    files_run = {nodeid.split("::")[0] for nodeid in _collected}
    kept = {
        nodeid: entry
        for nodeid, entry in previous.items()
        if (ROOT / nodeid.split("::")[0]).exists() and (nodeid in _collected or nodeid.split("::")[0] not in files_run)
    }
    merged = {**kept, **_results}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"tests": list(merged.values())}, indent=2, ensure_ascii=False) + "\n", "utf-8")
