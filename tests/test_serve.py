"""`leadscore serve` answers as the build does, reloads without a restart, and refuses bad input
with a 422 that names the field, on a real DuckDB snapshot, real dbt and the real model."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from conftest import BIN, DEMO_AS_OF, Workspace, append_csv_rows, read_csv_rows
from leadscore.artifacts import set_champion
from leadscore.serve import ServeSettings, create_app

pytestmark = pytest.mark.slow

AS_OF = DEMO_AS_OF.replace(" ", "T")
MAX_EVENTS = 200
MAX_BODY = 400_000
MAX_BATCH = 500


def settings_for(ws: Workspace, **overrides: object) -> ServeSettings:
    values: dict = {
        "snapshot": ws.published / "serving.duckdb",
        "artifacts": ws.artifacts,
        "max_batch": MAX_BATCH,
        "max_events": MAX_EVENTS,
        "max_body_bytes": MAX_BODY,
        "poll_seconds": 1.0,
    }
    values.update(overrides)
    return ServeSettings(**values)


@pytest.fixture(scope="module")
def served(
    scored_workspace: Workspace, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Workspace, TestClient]]:
    """A copy of the scored demo and the service over it, loaded once for this module."""
    ws = scored_workspace.copy_to(tmp_path_factory.mktemp("served"))
    os.environ.setdefault("LEADSCORE_ORT_THREADS", "1")
    os.environ.setdefault("LEADSCORE_SHAP_THREADS", "1")
    app = create_app(settings_for(ws))
    with TestClient(app) as client:
        assert app.state.engine.wait_ready(900), app.state.engine.problem
        yield ws, client


def factors(value: object) -> list[dict]:
    return json.loads(value) if isinstance(value, str) else list(value)  # type: ignore[arg-type]


def null(value: object) -> object:
    """A NULL of the mart as JSON has it (pandas reads it as NaN or NaT)."""
    return None if value is None or bool(pd.isna(value)) else value


def assert_same_score(answer: dict, row: dict) -> None:
    row = {k: null(v) if not isinstance(v, (list, dict)) else v for k, v in row.items()}
    assert answer["lead_id"] == row["lead_id"]
    if row["conversion_probability"] is None:
        assert answer["conversion_probability"] is None, row["lead_id"]
    else:
        assert abs(answer["conversion_probability"] - row["conversion_probability"]) <= 1e-9
    for column in ("score", "tier", "score_status", "fit_score", "engagement_score",
                   "model_version", "top_reasons"):
        assert answer[column] == row[column], (row["lead_id"], column)
    assert answer["top_factors"] == factors(row["top_factors"]), row["lead_id"]


def lead_scores(ws: Workspace, lead_ids: list[str] | None = None) -> dict[str, dict]:
    frame = ws.df("select * from lead_scores order by lead_id")
    rows = {r["lead_id"]: r for r in frame.to_dict("records")}
    return {k: rows[k] for k in lead_ids} if lead_ids else rows


def test_every_lead_scores_as_lead_scores_at_the_builds_as_of(served) -> None:
    ws, client = served
    expected = lead_scores(ws)
    ids = sorted(expected)
    answered = {}
    for start in range(0, len(ids), MAX_BATCH):
        body = {"leads": [{"lead_id": i, "as_of": AS_OF} for i in ids[start:start + MAX_BATCH]]}
        response = client.post("/v1/score/batch", json=body)
        assert response.status_code == 200, response.text
        answered.update({s["lead_id"]: s for s in response.json()["scores"]})
    assert sorted(answered) == ids
    for lead_id in ids:
        assert_same_score(answered[lead_id], expected[lead_id])
    # the single-lead endpoint answers the same
    one = client.post("/v1/score", json={"lead_id": ids[0], "as_of": AS_OF}).json()
    assert_same_score(one, expected[ids[0]])


def test_new_events_score_as_a_build_after_appending_them(served, tmp_path: Path) -> None:
    ws, client = served
    known, stored_id = ws.sql(
        "select lead_id, max(event_id) from stg_raw__events where lead_id in "
        "(select lead_id from stg_raw__leads where created_at < '2026-05-01') "
        "group by lead_id order by count(*) desc, lead_id limit 1"
    )[0]
    stored = next(e for e in read_csv_rows(ws.raw / "events.csv") if e["event_id"] == stored_id)
    new_events = [
        {"lead_id": known, "occurred_at": "2026-05-30 10:00:00", "channel": "web",
         "event_type": "page_view", "page_category": "pricing", "event_id": "srv-1"},
        {"lead_id": known, "occurred_at": "2026-05-30 10:05:00", "channel": "form",
         "event_type": "form_submit", "page_category": "demo", "event_id": "srv-2"},
        # a copy of a stored event: staging keeps one
        {k: stored[k] or None for k in ("lead_id", "occurred_at", "channel", "event_type",
                                       "page_category", "event_id")},
    ]
    new_lead = {"lead_id": "SRV-NEW", "created_at": "2026-05-20 08:00:00", "job_title": "VP",
                "company_size": "201-1000", "industry": "Software",
                "country": "United States", "lead_source": "organic_search",
                "employee_count": "450"}
    new_lead_events = [
        {"lead_id": "SRV-NEW", "occurred_at": f"2026-05-{day} 11:00:00", "channel": "web",
         "event_type": "page_view", "page_category": page, "event_id": f"srv-new-{day}"}
        for day, page in (("21", "blog"), ("25", "pricing"), ("29", "demo"))
    ]
    answer = client.post("/v1/score", json={
        "lead_id": known, "as_of": AS_OF,
        "events": [{k: v for k, v in e.items() if v is not None} for e in new_events]}).json()
    assert answer["duplicate_events_ignored"] == 1, answer
    fresh = client.post("/v1/score", json={
        "lead_id": "SRV-NEW", "as_of": AS_OF,
        "attributes": {k: v for k, v in new_lead.items() if k != "lead_id"},
        "events": [{k: v for k, v in e.items() if k != "lead_id"} for e in new_lead_events],
    }).json()
    assert fresh["known_lead"] is False and fresh["events_used"] == 3, fresh

    rebuilt = ws.copy_to(tmp_path / "rebuilt")
    header = read_csv_rows(rebuilt.raw / "leads.csv")[0].keys()
    append_csv_rows(rebuilt.raw / "events.csv", new_events + new_lead_events)
    append_csv_rows(rebuilt.raw / "leads.csv", [{k: new_lead.get(k) for k in header}])
    rebuilt.dbt("build", "--select", "+lead_scores", "--exclude-resource-type", "test",
                "unit_test")
    after = lead_scores(rebuilt, [known, "SRV-NEW"])
    assert_same_score(answer, after[known])
    assert_same_score(fresh, after["SRV-NEW"])
    # and the new events moved the known lead's score
    before = lead_scores(ws, [known])[known]
    assert answer["conversion_probability"] != before["conversion_probability"]


def test_each_connection_plans_once_and_keeps_requests_apart(served, tmp_path: Path) -> None:
    """Requests run the plan each pooled connection prepared at load (no bind, no optimiser),
    and one request's events never reach the next request on the same connection."""
    ws, client = served
    state = client.app.state.engine.state()
    lead_id = sorted(lead_scores(ws))[0]
    with_events = {"lead_id": lead_id, "as_of": AS_OF, "events": [
        {"occurred_at": "2026-05-31 09:00:00", "channel": "form", "event_type": "form_submit",
         "page_category": "demo", "event_id": f"plan-{k}"} for k in range(3)]}
    alone = {"lead_id": lead_id, "as_of": AS_OF}
    held = [state._pool.get() for _ in range(state._pool.qsize())]
    for slot, con in held:
        con.execute("pragma enable_profiling = 'json'")
        con.execute("pragma profiling_mode = 'detailed'")
        con.execute(f"pragma profiling_output = '{tmp_path / f'slot{slot}.json'}'")
    for item in held:
        state._pool.put(item)
    try:
        # the pool is first in, first out: every connection answers with_events, then alone
        answers = [client.post("/v1/score", json=body).json()
                   for body in [with_events] * len(held) + [alone] * len(held)]
    finally:
        held = [state._pool.get() for _ in range(len(held))]
        for _, con in held:
            con.execute("pragma disable_profiling")
        for item in held:
            state._pool.put(item)
    expected = lead_scores(ws, [lead_id])[lead_id]
    for answer in answers[len(held):]:
        assert_same_score(answer, expected)
        assert answer["events_used"] == answers[0]["events_used"] - 3
    assert answers[0]["conversion_probability"] != expected["conversion_probability"]
    for slot, _ in held:
        profile = json.loads((tmp_path / f"slot{slot}.json").read_text())
        assert profile["query"]["sql"].strip().lower() == "execute leadscore_serving", profile
        # a re-planned query runs the whole optimiser, join ordering included
        assert "join_order" not in profile.get("optimizer", {}), "the request re-planned"


def new_lead(**changes: object) -> dict:
    body: dict = {
        "lead_id": "SRV-BAD",
        "as_of": AS_OF,
        "attributes": {"created_at": "2026-05-01 09:00:00"},
        "events": [{"occurred_at": "2026-05-02 10:00:00", "channel": "web",
                    "event_type": "page_view"}],
    }
    body.update(changes)
    return body


def event(**changes: object) -> dict:
    return {"occurred_at": "2026-05-02 10:00:00", "channel": "web", "event_type": "page_view",
            **changes}


BAD_INPUTS = {
    "unknown field": (new_lead(leadid="x"), ["leadid"]),
    "unknown attribute": (new_lead(attributes={"created_at": "2026-05-01", "jobtitle": "VP"}),
                          ["attributes", "jobtitle"]),
    "mistyped field": (new_lead(lead_id=5), ["lead_id"]),
    "unparseable timestamp": (new_lead(events=[event(occurred_at="yesterday noon")]),
                              ["events", 0, "occurred_at"]),
    "unparseable as_of": (new_lead(as_of="next tuesday"), ["as_of"]),
    "event for another lead": (new_lead(events=[event(), event(lead_id="L0000001")]),
                               ["events", 1, "lead_id"]),
    "event after as_of": (new_lead(events=[event(occurred_at="2026-06-03 10:00:00")]),
                          ["events", 0, "occurred_at"]),
    "too many events": (new_lead(events=[event()] * (MAX_EVENTS + 1)), ["events"]),
    "new lead without created_at": (new_lead(attributes={}), ["attributes", "created_at"]),
    "body over the size limit": (new_lead(events=[event(campaign="x" * MAX_BODY)]), ["body"]),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_gets_a_422_naming_the_field(served, case: str) -> None:
    _, client = served
    body, field = BAD_INPUTS[case]
    response = client.post("/v1/score", json=body)
    assert response.status_code == 422, response.text
    errors = response.json()["detail"]
    assert any(e["loc"] == field for e in errors), errors
    assert all(e["msg"] and e["hint"] for e in errors), errors


def test_a_bad_event_in_a_batch_is_named_by_its_lead_and_position(served) -> None:
    _, client = served
    leads = [new_lead(lead_id="SRV-B1", events=[event(), event()]),
             new_lead(lead_id="SRV-B2", events=[event(), event(occurred_at="yesterday noon")])]
    response = client.post("/v1/score/batch", json={"leads": leads})
    assert response.status_code == 422, response.text
    assert [e["loc"] for e in response.json()["detail"]] == [
        ["leads", 1, "events", 1, "occurred_at"]]


def test_a_batch_over_the_limit_gets_a_422(served) -> None:
    _, client = served
    leads = [{"lead_id": f"L{i:07d}"} for i in range(MAX_BATCH + 1)]
    response = client.post("/v1/score/batch", json={"leads": leads})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["leads"]


def test_without_a_model_the_service_answers_503_with_the_builds_message(
    served, tmp_path: Path
) -> None:
    ws, _ = served
    app = create_app(settings_for(ws, artifacts=tmp_path / "no-artifacts"))
    with TestClient(app) as client:
        deadline = time.monotonic() + 60
        while "No trained model" not in str(app.state.engine.problem):
            assert time.monotonic() < deadline, app.state.engine.problem
            time.sleep(0.2)
        for response in (client.post("/v1/score", json={"lead_id": "L0000001"}),
                         client.get("/readyz")):
            assert response.status_code == 503
            assert "No trained model found" in response.json()["detail"]
            assert "python python/train.py" in response.json()["detail"]
        assert client.get("/healthz").status_code == 200


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_real_server_picks_up_a_promoted_model_without_a_restart(
    served, tmp_path: Path
) -> None:
    ws = served[0].copy_to(tmp_path / "live")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = ws.env() | {"LEADSCORE_ORT_THREADS": "1", "LEADSCORE_SHAP_THREADS": "1"}
    server = subprocess.Popen(
        [str(BIN / "leadscore"), "serve", "--port", str(port), "--poll-seconds", "1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        with httpx.Client(base_url=base, timeout=60) as http:
            wait_for(lambda: http.get("/readyz").status_code == 200, server)
            old = http.get("/v1/model").json()["version"]
            lead = {"lead_id": "L0000001", "as_of": AS_OF}
            before = http.post("/v1/score", json=lead).json()
            assert before["model_version"] == old

            promoted = f"{old}-copy"
            shutil.copytree(ws.artifacts / "models" / old, ws.artifacts / "models" / promoted)
            answers: list[httpx.Response] = []
            stop = threading.Event()

            def keep_asking() -> None:
                with httpx.Client(base_url=base, timeout=60) as other:
                    while not stop.is_set():
                        answers.append(other.post("/v1/score", json=lead))

            asker = threading.Thread(target=keep_asking)
            asker.start()
            set_champion(promoted, ws.artifacts)
            wait_for(lambda: http.get("/v1/model").json()["version"] == promoted, server)
            stop.set()
            asker.join()
            after = http.post("/v1/score", json=lead).json()
        assert after["model_version"] == promoted
        assert after["conversion_probability"] == before["conversion_probability"]
        assert answers and all(a.status_code == 200 for a in answers)
        assert {a.json()["model_version"] for a in answers} <= {old, promoted}
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert "Traceback" not in output, output[-3000:]


def wait_for(condition, server: subprocess.Popen, timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout
    while True:
        assert server.poll() is None, server.communicate()[0][-3000:]
        try:
            if condition():
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "the server did not get there in time"
        time.sleep(0.5)
