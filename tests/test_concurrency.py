"""One build at a time per warehouse: a second one fails at once and changes nothing, and
readers of the published marts never wait for a build."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

from conftest import BIN, ROOT, Workspace, tiny_leads, write_csv

BUILD = ("build", "--select", "+lead_scores", "--exclude-resource-type", "test", "unit_test")
# Stands in for a running build: a process holding the warehouse open for writing, as dbt
# does from its first query to its last.
HOLD = (
    "import sys, duckdb; con = duckdb.connect(sys.argv[1]); "
    "print('holding', flush=True); sys.stdin.read()"
)


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory, tiny_scored: Workspace) -> Workspace:
    return tiny_scored.copy_to(tmp_path_factory.mktemp("concurrency"))


@contextmanager
def warehouse_held(ws: Workspace) -> Iterator[int]:
    """The warehouse held open by another process, whose pid is yielded."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(ws.warehouse)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        yield holder.pid
    finally:
        holder.communicate(timeout=60)


def read_published(ws: Workspace) -> tuple[int, int]:
    """Row counts of the published DuckDB file and Parquet file, read as a BI tool would."""
    con = duckdb.connect(str(ws.published / "leadscore.duckdb"), read_only=True)
    try:
        in_database = con.execute("select count(*) from lead_scores").fetchone()[0]
        in_parquet = con.execute(
            f"select count(*) from '{ws.published / 'lead_scores.parquet'}'"
        ).fetchone()[0]
    finally:
        con.close()
    return in_database, in_parquet


@pytest.fixture(scope="module")
def blocked(scored: Workspace) -> dict[str, object]:
    """A build started while another process holds the warehouse, and what it left behind."""
    before = (scored.published_files(), scored.sql("select * from lead_scores order by lead_id"))
    with warehouse_held(scored) as pid:
        result = scored.dbt(*BUILD, check=False)
    after = (scored.published_files(), scored.sql("select * from lead_scores order by lead_id"))
    return {"result": result, "pid": pid, "before": before, "after": after}


def test_a_build_on_a_busy_warehouse_fails_naming_the_warehouse_and_the_holder(scored, blocked):
    result = blocked["result"]
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert str(scored.warehouse) in output and f"PID {blocked['pid']}" in output
    assert "OK created" not in output


def test_a_build_on_a_busy_warehouse_changes_nothing(blocked):
    assert blocked["after"] == blocked["before"]


def test_readers_of_published_marts_are_not_blocked_while_a_build_holds_the_warehouse(scored):
    expected = scored.sql("select count(*) from lead_scores")[0][0]
    with warehouse_held(scored):
        assert read_published(scored) == (expected, expected)


def test_readers_see_the_old_or_the_new_scores_while_a_build_publishes(scored, tmp_path: Path):
    ws = scored.copy_to(tmp_path / "ws")
    old = ws.sql("select count(*) from lead_scores")[0][0]
    write_csv(ws.raw / "leads.csv", tiny_leads(old + 1))
    build = subprocess.Popen(
        [str(BIN / "dbt"), *BUILD, "--vars", "{as_of: '2026-06-01 00:00:00'}"],
        cwd=ROOT, env=ws.env(),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    seen = set()
    while build.poll() is None:
        seen.add(read_published(ws))
        time.sleep(0.2)  # leave the build most of the two cores
    assert build.returncode == 0
    seen.add(read_published(ws))
    # each file is replaced atomically (the pair is not: a reader may see one of each)
    assert {database for database, _ in seen} <= {old, old + 1}
    assert {parquet for _, parquet in seen} <= {old, old + 1}
    assert read_published(ws) == (old + 1, old + 1)
