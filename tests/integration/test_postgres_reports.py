"""Reports read the same numbers from PostgreSQL as from SQLite (the SQL is portable, the bucketing exact)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from app.domain.reports import GroupBy, ReportPeriod, report_json
from app.store.database import open_store
from app.store.reports import build_report
from tests import report_fixture as fx
from tests.peers.postgres import private_postgres, server_binaries


@pytest.fixture(scope="module")
def pg_engine() -> Iterator[Engine]:
    if server_binaries() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL must be installed in CI (make test installs it)")
        pytest.skip("PostgreSQL server binaries are not installed")
    with private_postgres() as url:
        engine = open_store(url=url)
        yield engine
        engine.dispose()


def test_every_grouping_gives_the_same_report_on_postgresql_as_on_sqlite(pg_engine: Engine, tmp_path: Path) -> None:
    """The fixture with known answers, built through the same store code on both databases."""
    sqlite_engine = open_store(tmp_path / "cache.sqlite3")
    try:
        fx.build(sqlite_engine)
        fx.build(pg_engine)
        span = ReportPeriod.for_dates(fx.FIRST_DAY, fx.LAST_DAY, fx.ZONE)
        for by in GroupBy:
            on_pg = report_json(build_report(pg_engine, span, by, now=fx.NOW))
            on_sqlite = report_json(build_report(sqlite_engine, span, by, now=fx.NOW))
            assert on_pg == on_sqlite
        assert on_pg["total"]["breaches"] == 4 and on_pg["total"]["volume_in"] == 7
    finally:
        sqlite_engine.dispose()
