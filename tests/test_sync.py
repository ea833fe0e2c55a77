"""`leadscore sync` against a stand-in CRM on 127.0.0.1: every changed lead ends acknowledged
exactly once or in the dead-letter table, whatever the CRM answers, and nothing is sent twice
without a reason."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from conftest import BIN, ROOT, Workspace, append_csv_rows, read_csv_rows
from leadscore.sync import main as sync_main
from leadscore.sync.config import RateLimit
from leadscore.sync.delivery import RateLimiter

TOKEN = "s3cr3t-crm-token-value"
BUILD = ("build", "--select", "+crm_outbox", "--exclude-resource-type", "test", "unit_test")
HOLD = (
    "import sys, duckdb; con = duckdb.connect(sys.argv[1]); "
    "print('holding', flush=True); sys.stdin.read()"
)
KEYS = {"webhook": "lead_id", "hubspot": "leadscore_lead_id", "salesforce": "LeadScore_Lead_Id__c"}


@pytest.fixture(scope="module")
def outbox_ws(tmp_path_factory: pytest.TempPathFactory, tiny_scored: Workspace) -> Workspace:
    """The tiny scored leads with crm_outbox built and published. Tests never change it."""
    ws = tiny_scored.copy_to(tmp_path_factory.mktemp("sync"))
    ws.extra_env.update({"LEADSCORE_ORT_THREADS": "1", "LEADSCORE_SHAP_THREADS": "1"})
    # lead_scores is built already: only the outbox and the importance view it reads
    ws.dbt("build", "--select", "crm_outbox", "stg_leadscore_models__feature_importance")
    return ws


@pytest.fixture
def httpserver() -> Iterator[HTTPServer]:
    """A CRM stand-in on 127.0.0.1 answering each request in its own thread (a retry is not
    queued behind a stalled answer)."""
    server = HTTPServer(host="127.0.0.1", threaded=True)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        server.stop()


def once(leads: Any) -> Counter[str]:
    """Each lead counted once."""
    return Counter(list(leads))


def outbox(ws: Workspace, where: str = "is_prospect") -> dict[str, dict[str, Any]]:
    df = ws.df(
        f"select * from crm_outbox where {where} order by lead_id",
        database=ws.published / "leadscore.duckdb",
    )
    return {row["lead_id"]: row for row in df.to_dict("records")}


class CRM:
    """A stand-in CRM: answers requests from a script, then with success, and remembers every
    request and which leads it told the client it applied."""

    def __init__(self, server: HTTPServer, destination: str, script: list[Callable] = ()) -> None:
        self.destination = destination
        self.script = list(script)
        self.requests: list[dict[str, Any]] = []
        self.applied: Counter[str] = Counter()
        self.lock = threading.Lock()
        server.expect_request(re.compile(".*")).respond_with_handler(self)

    def leads_of(self, body: dict[str, Any]) -> list[str]:
        items = body.get("inputs") or body.get("records") or []
        if self.destination == "hubspot":
            return [item["id"] for item in items]
        return [item[KEYS[self.destination]] for item in items]

    def __call__(self, request: Request) -> Response:
        body = request.get_json()
        leads = self.leads_of(body)
        with self.lock:
            self.requests.append(
                {"method": request.method, "path": request.path, "body": body,
                 "headers": dict(request.headers), "at": time.monotonic(), "leads": leads}
            )  # fmt: skip
            step = self.script.pop(0) if self.script else ok
        return step(self, leads)

    def received(self) -> Counter[str]:
        return Counter(lead for r in self.requests for lead in r["leads"])


def ok(crm: CRM, leads: list[str], failed: dict[str, Any] | None = None) -> Response:
    """Success in the destination's own shape; failed: lead -> per-record error."""
    failed = failed or {}
    crm.applied.update(lead for lead in leads if lead not in failed)
    if crm.destination == "salesforce":
        body: Any = [
            {"id": None, "success": False, "errors": [failed[lead]]}
            if lead in failed
            else {"id": f"00Q{i:012d}", "success": True, "errors": [], "created": False}
            for i, lead in enumerate(leads)
        ]
        return Response(json.dumps(body), 200, content_type="application/json")
    if crm.destination == "hubspot":
        body = {
            "status": "COMPLETE",
            "results": [
                {"id": str(100 + i), "properties": {"leadscore_lead_id": lead}}
                for i, lead in enumerate(leads)
                if lead not in failed
            ],
        }
        if failed:
            body["numErrors"] = len(failed)
            body["errors"] = [
                {"status": "error", **error, "context": {"ids": [lead]}}
                for lead, error in failed.items()
            ]
        return Response(json.dumps(body), 207 if failed else 200, content_type="application/json")
    return Response("{}", 200, content_type="application/json")


def status(code: int, retry_after: str | None = None, text: str = "") -> Callable:
    def answer(crm: CRM, leads: list[str]) -> Response:
        headers = {"Retry-After": retry_after} if retry_after else {}
        return Response(text or f"status {code}", code, headers=headers)

    return answer


def stall(seconds: float) -> Callable:
    """Answer only after the client has given up (its reply is never read)."""

    def answer(crm: CRM, leads: list[str]) -> Response:
        time.sleep(seconds)
        return Response("{}", 200)

    return answer


def write_config(folder: Path, ws: Workspace, server: HTTPServer, destination: str,
                 **extra: Any) -> Path:  # fmt: skip
    config = {
        "destination": destination,
        "url": server.url_for("/scores" if destination == "webhook" else ""),
        "batch_size": 3,
        "published": str(ws.published),
        "state": str(folder / "state.duckdb"),
        "timeout_seconds": 5,
        "retry": {"attempts": 4, "backoff_seconds": 0.01, "max_backoff_seconds": 5,
                  "next_run_after_seconds": 0},
        "rate_limit": {"requests": 1000, "per_seconds": 1},
        **extra,
    }  # fmt: skip
    path = folder / "crm.yml"
    path.write_text(json.dumps(config))  # JSON is YAML
    return path


def run(config: Path, ws: Workspace, monkeypatch: pytest.MonkeyPatch, capsys, *args: str):
    monkeypatch.setenv("LEADSCORE_DB", str(ws.warehouse))
    monkeypatch.setenv("LEADSCORE_CRM_TOKEN", TOKEN)
    code = sync_main(["--config", str(config), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def state(config: Path, query: str) -> list[tuple]:
    con = duckdb.connect(str(config.parent / "state.duckdb"), read_only=True)
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


def delivered(config: Path) -> set[str]:
    return {r[0] for r in state(config, "select lead_id from delivered")}


def dead_letters(config: Path) -> dict[str, str]:
    return dict(state(config, "select lead_id, error from dead_letters"))


# ------------------------------------------------------------------------------------ tests


def test_every_changed_prospect_is_sent_once_with_its_mapped_fields(
    outbox_ws, httpserver, tmp_path, monkeypatch, capsys
):
    crm = CRM(httpserver, "webhook")
    config = write_config(tmp_path, outbox_ws, httpserver, "webhook")
    prospects = outbox(outbox_ws)
    converted = outbox(outbox_ws, "not is_prospect")
    assert prospects and converted

    code, out, _ = run(config, outbox_ws, monkeypatch, capsys)

    assert code == 0
    assert crm.received() == once(prospects)  # each once, no converted lead
    assert delivered(config) == set(prospects)
    for request in crm.requests:
        assert request["method"] == "POST" and request["path"] == "/scores"
        assert request["headers"]["Authorization"] == f"Bearer {TOKEN}"
        assert 1 <= len(request["body"]["records"]) <= 3
        for record in request["body"]["records"]:
            row = prospects[record["lead_id"]]
            assert record["score"] == row["score"] and record["tier"] == row["tier"]
            assert record["probability"] == row["probability"]
            assert record["model_version"] == row["model_version"]
            assert record["score_confidence"] == row["score_confidence"]
            assert record["top_factors"] == list(row["top_factors"])
            assert 1 <= len(record["top_factors"]) <= 5
            assert record["scored_at"] == row["scored_at"].strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f"{len(prospects)} acknowledged" in out

    requests = len(crm.requests)
    code, out, _ = run(config, outbox_ws, monkeypatch, capsys)
    assert code == 0 and len(crm.requests) == requests  # nothing changed, nothing sent
    assert "0 records to send" in out


def test_429_waits_for_retry_after_then_delivers(outbox_ws, httpserver, tmp_path, monkeypatch,
                                                 capsys):  # fmt: skip
    crm = CRM(httpserver, "webhook", [status(429, retry_after="1")])
    config = write_config(tmp_path, outbox_ws, httpserver, "webhook")

    code, out, _ = run(config, outbox_ws, monkeypatch, capsys)

    assert code == 0
    first, second = crm.requests[0], crm.requests[1]
    assert second["leads"] == first["leads"]
    # the backoff alone is 10 ms: only Retry-After explains a second's wait
    assert second["at"] - first["at"] >= 0.95
    assert crm.applied == once(outbox(outbox_ws))
    assert delivered(config) == set(outbox(outbox_ws))
    assert "3 retried" in out


@pytest.mark.parametrize("failure", ["500", "timeout"])
def test_a_server_error_or_a_timeout_is_retried_and_delivered_once(
    failure, outbox_ws, httpserver, tmp_path, monkeypatch, capsys
):
    first = status(500) if failure == "500" else stall(1.5)
    crm = CRM(httpserver, "webhook", [first])
    config = write_config(tmp_path, outbox_ws, httpserver, "webhook", timeout_seconds=0.5)

    code, _, _ = run(config, outbox_ws, monkeypatch, capsys)

    assert code == 0
    prospects = outbox(outbox_ws)
    assert crm.requests[1]["leads"] == crm.requests[0]["leads"]
    assert crm.applied == once(prospects)  # applied exactly once each
    assert delivered(config) == set(prospects)
    assert state(config, "select count(*) from retry_queue") == [(0,)]


def test_retries_used_up_wait_for_a_later_run(outbox_ws, httpserver, tmp_path, monkeypatch,
                                              capsys):  # fmt: skip
    crm = CRM(httpserver, "webhook", [status(503)] * 2)
    config = write_config(
        tmp_path, outbox_ws, httpserver, "webhook",
        retry={"attempts": 2, "backoff_seconds": 0.01, "next_run_after_seconds": 3600},
    )  # fmt: skip
    prospects = outbox(outbox_ws)

    code, out, _ = run(config, outbox_ws, monkeypatch, capsys)

    assert code == 1
    first_batch = set(crm.requests[0]["leads"])
    assert delivered(config) == set(prospects) - first_batch
    queued = state(config, "select lead_id, attempts, next_attempt_at > now(), last_error "
                           "from retry_queue")  # fmt: skip
    assert {r[0] for r in queued} == first_batch
    assert all(attempts == 2 and later and "503" in error for _, attempts, later, error in queued)
    assert "3 left for the next run" in out

    # not yet due: the next run sends nothing
    sent = len(crm.requests)
    code, out, _ = run(config, outbox_ws, monkeypatch, capsys)
    assert len(crm.requests) == sent and "3 waiting for a later retry" in out

    # once due, they go, and only they
    con = duckdb.connect(str(tmp_path / "state.duckdb"))
    con.execute("update retry_queue set next_attempt_at = now() - interval 1 minute")
    con.close()
    code, _, _ = run(config, outbox_ws, monkeypatch, capsys)
    assert code == 0
    assert set(crm.requests[-1]["leads"]) == first_batch and len(crm.requests) == sent + 1
    assert crm.applied == once(prospects)
    assert state(config, "select count(*) from retry_queue") == [(0,)]


def test_hubspot_per_record_errors_dead_letter_one_and_retry_another(
    outbox_ws, httpserver, tmp_path, monkeypatch, capsys
):
    prospects = sorted(outbox(outbox_ws))
    bad, busy = prospects[0], prospects[1]
    crm = CRM(httpserver, "hubspot", [lambda crm, leads: ok(crm, leads, {
        bad: {"category": "VALIDATION_ERROR", "message": "Property values were not valid"},
        busy: {"category": "RATE_LIMITS", "message": "Too many requests for this record"},
    })])  # fmt: skip
    config = write_config(tmp_path, outbox_ws, httpserver, "hubspot")

    code, _, _ = run(config, outbox_ws, monkeypatch, capsys)

    assert code == 1  # a dead letter is worth a non-zero exit
    first = crm.requests[0]
    assert first["method"] == "POST" and first["path"] == "/crm/v3/objects/contacts/batch/upsert"
    sent = first["body"]["inputs"][0]
    assert sent["idProperty"] == "leadscore_lead_id" and sent["id"] == bad
    assert sent["properties"]["leadscore_score"] == str(outbox(outbox_ws)[bad]["score"])
    assert crm.requests[1]["leads"] == [busy]  # only the retryable record goes again
    assert dead_letters(config) == {bad: "VALIDATION_ERROR: Property values were not valid"}
    assert delivered(config) == set(prospects) - {bad}
    assert crm.applied == once(set(prospects) - {bad})

    requests = len(crm.requests)  # the same payload is not offered to HubSpot again
    run(config, outbox_ws, monkeypatch, capsys)
    assert len(crm.requests) == requests


def test_salesforce_per_record_errors_dead_letter_one_and_retry_another(
    outbox_ws, httpserver, tmp_path, monkeypatch, capsys
):
    prospects = sorted(outbox(outbox_ws))
    bad, locked = prospects[2], prospects[0]
    crm = CRM(httpserver, "salesforce", [lambda crm, leads: ok(crm, leads, {
        bad: {"statusCode": "INVALID_FIELD_FOR_INSERT_UPDATE", "message": "Unable to create",
              "fields": ["LeadScore_Tier__c"]},
        locked: {"statusCode": "UNABLE_TO_LOCK_ROW", "message": "unable to obtain lock"},
    })])  # fmt: skip
    config = write_config(tmp_path, outbox_ws, httpserver, "salesforce")

    code, _, _ = run(config, outbox_ws, monkeypatch, capsys)

    assert code == 1
    first = crm.requests[0]
    assert first["method"] == "PATCH"
    assert first["path"] == "/services/data/v62.0/composite/sobjects/Lead/LeadScore_Lead_Id__c"
    assert first["body"]["allOrNone"] is False
    assert first["body"]["records"][0]["attributes"] == {"type": "Lead"}
    assert crm.requests[1]["leads"] == [locked]
    assert dead_letters(config) == {bad: "INVALID_FIELD_FOR_INSERT_UPDATE: Unable to create"}
    assert delivered(config) == set(prospects) - {bad}
    assert crm.applied == once(set(prospects) - {bad})


def test_401_stops_the_run_marks_nothing_delivered_and_never_shows_the_token(
    outbox_ws, httpserver, tmp_path
):
    # a CRM that echoes the credentials it got into its error body
    def refuse(crm: CRM, leads: list[str]) -> Response:
        return Response(f"bad token {crm.requests[-1]['headers']['Authorization']}", 401)

    crm = CRM(httpserver, "hubspot", [refuse] * 10)
    config = write_config(tmp_path, outbox_ws, httpserver, "hubspot")
    env = {**outbox_ws.env(), "LEADSCORE_CRM_TOKEN": TOKEN}

    result = subprocess.run(
        [str(BIN / "leadscore"), "sync", "--config", str(config)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert result.returncode == 3
    assert len(crm.requests) == 1  # stopped at once
    assert "refused the credentials (HTTP 401)" in result.stderr
    assert "LEADSCORE_CRM_TOKEN" in result.stderr
    assert delivered(config) == set() and dead_letters(config) == {}
    leaked = [p for p in tmp_path.rglob("*") if p.is_file() and TOKEN.encode() in p.read_bytes()]
    assert TOKEN not in result.stdout + result.stderr and leaked == []


def test_a_rejection_echoing_the_token_is_dead_lettered_with_the_token_masked(
    outbox_ws, httpserver, tmp_path, monkeypatch, capsys
):
    def reject(crm: CRM, leads: list[str]) -> Response:
        auth = crm.requests[-1]["headers"]["Authorization"]
        return Response(f"invalid record; you sent {auth}", 422)

    crm = CRM(httpserver, "webhook", [reject])
    config = write_config(tmp_path, outbox_ws, httpserver, "webhook")

    code, out, err = run(config, outbox_ws, monkeypatch, capsys)

    assert code == 1
    rejected = dead_letters(config)
    assert set(rejected) == set(crm.requests[0]["leads"])
    assert all(e == "HTTP 422: invalid record; you sent Bearer [LEADSCORE_CRM_TOKEN]"
               for e in rejected.values())  # fmt: skip
    leaked = [p for p in tmp_path.rglob("*") if p.is_file() and TOKEN.encode() in p.read_bytes()]
    assert TOKEN not in out + err and leaked == []


def test_a_token_in_the_config_file_is_refused_without_echoing_it(tmp_path, capsys):
    config = tmp_path / "crm.yml"
    config.write_text(f"destination: webhook\nurl: http://127.0.0.1:1/x\ntoken: {TOKEN}\n")
    assert sync_main(["--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "'token' looks like a credential" in err and "LEADSCORE_CRM_TOKEN" in err
    assert TOKEN not in err


def test_a_killed_run_loses_nothing_and_the_next_run_sends_the_rest(
    outbox_ws, httpserver, tmp_path, monkeypatch, capsys
):
    release = threading.Event()

    def hang(crm: CRM, leads: list[str]) -> Response:
        release.wait(60)  # the client is killed meanwhile: this answer is never read
        return Response("{}", 200)

    crm = CRM(httpserver, "webhook", [ok, ok, hang])
    config = write_config(tmp_path, outbox_ws, httpserver, "webhook", batch_size=2,
                          timeout_seconds=60)  # fmt: skip
    prospects = outbox(outbox_ws)
    assert len(prospects) > 6  # more than the three batches the killed run gets to send

    run_ = subprocess.Popen(
        [str(BIN / "leadscore"), "sync", "--config", str(config)],
        cwd=ROOT, env={**outbox_ws.env(), "LEADSCORE_CRM_TOKEN": TOKEN},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(600):
            if len(crm.requests) == 3 or run_.poll() is not None:
                break
            time.sleep(0.1)
        assert len(crm.requests) == 3, "the sync never reached its third batch"
        os.kill(run_.pid, signal.SIGKILL)
        run_.wait(timeout=60)
    finally:
        release.set()
    applied_before = set(crm.applied)
    assert delivered(config) == applied_before and len(applied_before) == 4

    code, _, _ = run(config, outbox_ws, monkeypatch, capsys)

    assert code == 0
    assert crm.applied == once(prospects)  # every lead applied once, none lost
    assert delivered(config) == set(prospects)
    # the batch in flight when the run died is the only one sent twice (at least once)
    assert crm.received() - once(prospects) == Counter(crm.requests[2]["leads"])


def test_a_sync_while_a_build_holds_the_warehouse_fails_at_once_and_changes_nothing(
    outbox_ws, httpserver, tmp_path
):
    crm = CRM(httpserver, "webhook")
    config = write_config(tmp_path, outbox_ws, httpserver, "webhook")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(outbox_ws.warehouse)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        result = subprocess.run(
            [str(BIN / "leadscore"), "sync", "--config", str(config)],
            cwd=ROOT, env={**outbox_ws.env(), "LEADSCORE_CRM_TOKEN": TOKEN},
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        holder.communicate(timeout=60)
    assert result.returncode == 2
    assert str(outbox_ws.warehouse) in result.stderr and f"PID {holder.pid}" in result.stderr
    assert "Nothing was sent or changed" in result.stderr
    assert crm.requests == [] and not (tmp_path / "state.duckdb").exists()


def test_an_outbox_built_from_other_scores_than_the_published_ones_is_refused(
    outbox_ws, httpserver, tmp_path, monkeypatch, capsys
):
    # lead_scores rebuilt without crm_outbox (dbt build --select lead_scores) leaves this
    published = tmp_path / "published"
    published.mkdir()
    shutil.copy2(outbox_ws.published / "leadscore.duckdb", published / "leadscore.duckdb")
    con = duckdb.connect(str(published / "leadscore.duckdb"))
    con.execute("update lead_scores set score_fingerprint = score_fingerprint + 1 "
                "where lead_id = (select min(lead_id) from lead_scores)")  # fmt: skip
    con.close()
    crm = CRM(httpserver, "webhook")
    config = write_config(tmp_path, outbox_ws, httpserver, "webhook", published=str(published))

    code, _, err = run(config, outbox_ws, monkeypatch, capsys)

    assert code == 2 and crm.requests == []
    assert "crm_outbox" in err and "1 leads differ" in err
    assert "dbt build --select tag:scoring" in err


def test_dry_run_prints_the_payloads_and_sends_and_changes_nothing(
    outbox_ws, httpserver, tmp_path, monkeypatch, capsys
):
    crm = CRM(httpserver, "salesforce")
    config = write_config(tmp_path, outbox_ws, httpserver, "salesforce")

    code, out, _ = run(config, outbox_ws, monkeypatch, capsys, "--dry-run")

    assert code == 0 and crm.requests == []
    assert not (tmp_path / "state.duckdb").exists()
    bodies = re.findall(r"^PATCH \S+\n(\{.*?^\})", out, flags=re.S | re.M)
    sent = [r["LeadScore_Lead_Id__c"] for body in bodies for r in json.loads(body)["records"]]
    assert sent == sorted(outbox(outbox_ws))
    assert TOKEN not in out


def test_a_rescoring_build_sends_only_the_leads_whose_fields_changed(
    outbox_ws, httpserver, tmp_path, monkeypatch, capsys
):
    ws = outbox_ws.copy_to(tmp_path / "ws")
    crm = CRM(httpserver, "webhook")
    config = write_config(tmp_path, ws, httpserver, "webhook")
    run(config, ws, monkeypatch, capsys)
    before = outbox(ws, "true")
    first_run = len(crm.requests)

    # new activity for two prospects, and a third one converts
    prospects = sorted(outbox(ws))
    active, converting = prospects[:2], prospects[2]
    events = read_csv_rows(ws.raw / "events.csv")
    template = next(e for e in events if e["page_category"] == "pricing")
    append_csv_rows(ws.raw / "events.csv", [
        {**template, "event_id": f"NEW-{lead}-{k}", "lead_id": lead,
         "occurred_at": f"2026-05-2{k} 10:00:00"}
        for lead in active for k in range(1, 6)
    ])  # fmt: skip
    append_csv_rows(ws.raw / "conversions.csv",
                    [{"lead_id": converting, "converted_at": "2026-05-25 12:00:00",
                      "amount": 1}])  # fmt: skip
    ws.dbt(*BUILD)
    after = outbox(ws, "true")
    changed = {
        lead for lead, row in after.items()
        if row["is_prospect"] and row["payload_hash"] != before[lead]["payload_hash"]
    }  # fmt: skip
    assert set(active) <= changed and changed < set(prospects)
    assert not after[converting]["is_prospect"]

    code, _, _ = run(config, ws, monkeypatch, capsys)

    assert code == 0
    resent = Counter(lead for r in crm.requests[first_run:] for lead in r["leads"])
    assert resent == once(changed)
    assert converting not in resent


def test_score_confidence_is_the_importance_weighted_share_of_known_features(outbox_ws):
    version = outbox_ws.sql("select any_value(model_version) from crm_outbox")[0][0]
    importance = dict(outbox_ws.sql(
        "select feature, mean_abs_shap from leadscore_models.model_feature_importance "
        f"where model_version = '{version}'"
    ))  # fmt: skip
    features = outbox_ws.df("select * from lead_features").set_index("lead_id")[list(importance)]
    known = features.notna().astype(float)
    expected = (known * pd.Series(importance)).sum(axis=1) / sum(importance.values())
    got = outbox_ws.df("select lead_id, score_confidence from crm_outbox").set_index("lead_id")
    assert expected.min() < 1  # some lead lacks an input that matters
    np.testing.assert_allclose(got["score_confidence"], expected.loc[got.index], atol=6e-4)


def test_top_factors_are_the_five_strongest_reasons_in_words(outbox_ws):
    rows = outbox_ws.sql(
        "select o.top_factors, s.top_factors from crm_outbox as o "
        "join lead_scores as s using (lead_id)"
    )
    for sent, scored in rows:
        strongest_first = sorted(
            json.loads(scored), key=lambda f: (-abs(f["contribution"]), f["feature"])
        )
        factors = strongest_first[:5]
        assert sent == [
            f["reason"] + (" (raises the score)" if f["contribution"] > 0
                           else " (lowers the score)")
            for f in factors
        ]  # fmt: skip


def test_the_rate_limiter_allows_n_requests_per_window():
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(RateLimit(requests=3, per_seconds=10), clock=lambda: now[0], sleep=sleep)
    starts = []
    for _ in range(7):
        limiter.acquire()
        starts.append(now[0])
        now[0] += 1  # each request takes a second
    assert starts == [0, 1, 2, 10, 11, 12, 20]
    # no window of 10 s ever holds more than 3 starts
    assert all(sum(1 for s in starts if t <= s < t + 10) <= 3 for t in starts)


@pytest.mark.parametrize("name", ["crm.yml", "salesforce.yml", "webhook.yml"])
def test_the_example_configs_are_valid(name):
    from leadscore.sync import load_config

    config = load_config(ROOT / "examples" / "crm" / name)
    assert config.fields["lead_id"] and config.batch_size >= 1
