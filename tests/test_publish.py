"""Publishing lead_scores: readers never see a partial or mixed table, and a build with a failed
test leaves the last published scores alone."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from conftest import Workspace, append_csv_rows, read_csv_rows

# Runs in its own process, as a BI tool would: it reads both published files in a loop until
# told to stop, then reads once more, and reports every read (or error) as JSON.
READER = """
import json
import sys
import time
from pathlib import Path

import duckdb

published, stop, out = (Path(arg) for arg in sys.argv[1:4])
QUERY = "select count(*), count(distinct model_version), min(model_version) from {}"


def read_database():
    con = duckdb.connect(str(published / "leadscore.duckdb"), read_only=True)
    try:
        return con.execute(QUERY.format("lead_scores")).fetchall()[0]
    finally:
        con.close()


def read_parquet():
    con = duckdb.connect()
    try:
        parquet = published / "lead_scores.parquet"
        return con.execute(QUERY.format(f"read_parquet('{parquet}')")).fetchall()[0]
    finally:
        con.close()


reads, errors = [], []
while True:
    stopping = stop.exists()
    for kind, read in (("duckdb", read_database), ("parquet", read_parquet)):
        try:
            reads.append([kind, *read()])
        except Exception as exc:
            errors.append(f"{kind}: {exc!r}")
    out.with_suffix(".ready").touch()
    if stopping:
        break
    time.sleep(0.01)  # leave the build its share of a small machine
out.write_text(json.dumps({"reads": reads, "errors": errors}))
"""


def start_reader(ws: Workspace, folder: Path) -> tuple[subprocess.Popen[bytes], Path, Path]:
    script, stop, out = folder / "reader.py", folder / "stop", folder / "reads.json"
    script.write_text(READER)
    reader = subprocess.Popen([sys.executable, str(script), str(ws.published), str(stop), str(out)])
    ready = out.with_suffix(".ready")
    for _ in range(1200):  # the first read must happen before the rebuild starts
        if ready.exists() or reader.poll() is not None:
            break
        time.sleep(0.05)
    assert ready.exists(), "the reader never managed a first read"
    return reader, stop, out


def test_readers_see_one_complete_version_while_a_new_model_is_published(
    scored_workspace, tmp_path
):
    ws = scored_workspace.copy_to(tmp_path / "ws")
    leads = ws.sql("select count(*) from lead_features")[0][0]
    old = ws.champion()
    ws.train()
    new = ws.champion()
    assert new != old

    reader, stop, out = start_reader(ws, tmp_path)
    try:
        ws.dbt("build", "--select", "tag:scoring")
    finally:
        stop.touch()
        reader.wait(timeout=120)
    result = json.loads(out.read_text())

    assert result["errors"] == []
    for kind in ("duckdb", "parquet"):
        reads = [r[1:] for r in result["reads"] if r[0] == kind]
        assert all(rows == leads and versions == 1 for rows, versions, _ in reads), kind
        seen = [version for _, _, version in reads]
        assert seen[0] == old and seen[-1] == new, kind
        # once the new version shows, the old one never comes back
        assert old not in seen[seen.index(new) :], kind


def test_a_build_with_a_failing_test_publishes_nothing(scored_workspace, tmp_path):
    ws = scored_workspace.copy_to(tmp_path / "ws")
    # an event delivered twice, and no rejected row tolerated
    append_csv_rows(ws.raw / "events.csv", read_csv_rows(ws.raw / "events.csv")[:1])
    published = ws.published_files()
    result = ws.dbt(
        "build", "--select", "rejected_rows", "lead_scores",
        vars="rejected_share_error: 0", check=False,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "rejected_share_events" in output
    assert "Not publishing lead_scores" in output
    assert ws.published_files() == published
