"""Random garbage appended to every raw CSV file: the build records it in rejected_rows and
scores the original leads exactly as before, or stops with a message that names the file."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from conftest import Workspace, csv_row_count

SEED = 20260601
BUILD = (
    "build", "--select", "+lead_scores", "path:models/staging", "path:models/audit",
    "--exclude-resource-type", "unit_test",
)
LENIENT = "rejected_share_error: 1"  # garbage is a large share of tiny files
INPUTS = ("leads", "events", "conversions")
TEXT = "abcXYZ019 -_:./@#&%!?éü€ß漢😀\t"


def random_text(rng: random.Random, quotes: bool) -> str:
    alphabet = TEXT + ('"' * 3 if quotes else "")
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))


def garbage_row(rng: random.Random, kind: str) -> bytes:
    """One line of garbage: text fields in a random number, or random bytes."""
    if kind == "bytes":
        data = bytes(rng.randrange(256) for _ in range(rng.randint(1, 60)))
        return data.replace(b'"', b"'").replace(b"\n", b" ").replace(b"\r", b" ") + b"\n"
    fields = [random_text(rng, quotes=kind == "quotes") for _ in range(rng.randint(1, 14))]
    return ",".join(fields).encode() + b"\n"


# (kind of garbage, whether it may stop the build): a quote that opens a value and never
# closes it does; the other garbage must be recorded as rejected rows.
CASES = [("fields", False), ("bytes", False), ("quotes", True)]


def scores(ws: Workspace) -> dict[str, tuple]:
    rows = ws.sql(
        "select lead_id, conversion_probability, score, tier, score_status from lead_scores"
    )
    return {row[0]: row[1:] for row in rows}


@pytest.mark.parametrize(("kind", "may_stop"), CASES, ids=[c[0] for c in CASES])
def test_garbage_rows_are_rejected_or_stop_the_build_with_a_clear_message(
    tiny_scored: Workspace, tmp_path: Path, kind: str, may_stop: bool
):
    ws = tiny_scored.copy_to(tmp_path / "ws")
    rng = random.Random(f"{SEED}-{kind}")
    for name in INPUTS:
        with open(ws.raw / f"{name}.csv", "ab") as handle:
            for _ in range(rng.randint(3, 6)):
                handle.write(garbage_row(rng, kind))
    result = ws.dbt(*BUILD, vars=LENIENT, check=False)
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    if result.returncode != 0:
        assert may_stop, output[-3000:]
        assert any(f"{ws.raw / name}.csv ({name})" in output for name in INPUTS)
        return
    for name in INPUTS:
        staged = ws.sql(f"select count(*) from stg_raw__{name}")[0][0]
        rejected = ws.sql(f"select count(*) from rejected_rows where input_name = '{name}'")[0][0]
        assert staged + rejected == csv_row_count(ws.raw / f"{name}.csv"), name
    assert scores(ws) == scores(tiny_scored)
