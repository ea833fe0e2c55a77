"""The demo path end to end on a tiny generated data set."""


def test_scores_one_row_per_lead(scored_workspace):
    ws = scored_workspace
    features = ws.sql("select count(*) from lead_features")[0][0]
    scores = ws.sql("select count(*), count(distinct lead_id) from lead_scores")[0]
    assert scores == (features, features)
    published = ws.sql("select count(*) from lead_scores", ws.published / "leadscore.duckdb")[0][0]
    assert published == features
