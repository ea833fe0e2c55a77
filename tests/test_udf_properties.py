"""Properties of the in-warehouse scoring functions, on any input a feature vector can hold:
a probability in [0, 1] for every list of the model's length, NULL for a NULL list, no error."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadscore import udf
from leadscore.artifacts import load_artifact

SETTINGS = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def scoring(shared_model: Path) -> Iterator[tuple[duckdb.DuckDBPyConnection, str, int]]:
    """An in-memory DuckDB with the leadscore functions, the model version and its width."""
    artifact = load_artifact(None, shared_model)
    con = duckdb.connect()
    udf.register(con, shared_model)
    yield con, artifact.version, len(artifact.feature_names)
    con.close()


# any double, the special ones included, or NULL
values = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e308, -1e308, 5e-324, 3.4028235e38, 3.4028236e38]),
)


def vectors(width: int) -> st.SearchStrategy[list[float | None] | None]:
    return st.one_of(st.none(), st.lists(values, min_size=width, max_size=width))


def score(con: duckdb.DuckDBPyConnection, function: str, version: str, rows: list) -> list:
    return [
        r[0]
        for r in con.execute(
            f"select {function}(?, f) from unnest(?::double[][]) with ordinality as t(f, i) "
            "order by i",
            [version, rows],
        ).fetchall()
    ]


@SETTINGS
@given(data=st.data())
def test_scores_are_probabilities_or_null_for_a_null_list(scoring, data):
    con, version, width = scoring
    rows = data.draw(st.lists(vectors(width), min_size=1, max_size=40))
    for row, probability in zip(rows, score(con, "leadscore_score", version, rows), strict=True):
        if row is None:
            assert probability is None
        else:
            assert probability is not None and 0.0 <= probability <= 1.0


@SETTINGS
@given(data=st.data())
def test_contributions_are_finite_and_one_per_feature_plus_the_base_value(scoring, data):
    con, version, width = scoring
    rows = data.draw(st.lists(vectors(width), min_size=1, max_size=20))
    for row, values_out in zip(rows, score(con, "leadscore_contributions", version, rows),
                               strict=True):
        if row is None:
            assert values_out is None
        else:
            assert len(values_out) == width + 1 and all(map(math.isfinite, values_out))


@SETTINGS
@given(data=st.data())
def test_a_list_of_the_wrong_length_is_refused_with_the_expected_length(scoring, data):
    con, version, width = scoring
    length = data.draw(st.integers(min_value=0, max_value=2 * width).filter(lambda n: n != width))
    with pytest.raises(duckdb.Error, match=f"the model expects {width}"):
        score(con, "leadscore_score", version, [[0.0] * length])


def test_a_batch_larger_than_one_vector_of_duckdb_scores_every_row(scoring):
    con, version, width = scoring
    rows = [[float(i % 7)] * width if i % 5 else None for i in range(5000)]
    scores = score(con, "leadscore_score", version, rows)
    assert [s is None for s in scores] == [r is None for r in rows]
    assert all(0.0 <= s <= 1.0 for s in scores if s is not None)
