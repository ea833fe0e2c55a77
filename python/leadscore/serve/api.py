"""The HTTP API of `leadscore serve`: FastAPI routes, request and response models, errors.

Every error is JSON: 422 names the field and what to do, 503 says why no model can answer
(the same message a batch build gives), and nothing ever answers with a traceback.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leadscore.config import artifacts_dir, project_dir
from leadscore.serve.engine import Engine, LeadInput, ServingState, Unavailable

__all__ = ["ServeSettings", "create_app"]

log = logging.getLogger("leadscore.serve")

RawValue = StrictStr | StrictInt | StrictFloat | None


@dataclass(frozen=True)
class ServeSettings:
    """What the service reads and its limits; from_env() for a process manager."""

    snapshot: Path
    artifacts: Path
    model_version: str | None = None
    max_batch: int = 1000
    max_events: int = 1000
    max_body_bytes: int = 5_000_000
    connections: int = 2
    poll_seconds: float = 2.0

    @classmethod
    def from_env(cls, **overrides: Any) -> ServeSettings:
        publish = os.environ.get("LEADSCORE_PUBLISH_DIR", "published")
        folder = Path(publish) if Path(publish).is_absolute() else project_dir() / publish
        env = os.environ.get
        values: dict[str, Any] = {
            "snapshot": Path(env("LEADSCORE_SERVE_SNAPSHOT", str(folder / "serving.duckdb"))),
            "artifacts": artifacts_dir(),
            "model_version": env("LEADSCORE_SERVE_MODEL_VERSION") or None,
            "max_batch": int(env("LEADSCORE_SERVE_MAX_BATCH", "1000")),
            "max_events": int(env("LEADSCORE_SERVE_MAX_EVENTS", "1000")),
            "max_body_bytes": int(env("LEADSCORE_SERVE_MAX_BODY_BYTES", "5000000")),
            "connections": int(env("LEADSCORE_SERVE_CONNECTIONS", "2")),
            "poll_seconds": float(env("LEADSCORE_SERVE_POLL_SECONDS", "2")),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


# ------------------------------------------------------------------------------ models
class Event(BaseModel):
    """One event in the input contract's fields (as in the raw events file)."""

    model_config = ConfigDict(extra="forbid")

    occurred_at: StrictStr = Field(description="when it happened, e.g. 2026-05-31T10:15:00Z")
    channel: StrictStr = Field(description="web, email, form, content, webinar, social, sales")
    event_type: StrictStr = Field(description="page_view, email_open, form_submit, download, ...")
    lead_id: StrictStr | None = Field(None, description="omit, or the lead's own id")
    event_id: StrictStr | None = Field(None, description="de-duplicates events (else a hash)")
    page_category: StrictStr | None = None
    campaign: StrictStr | None = None
    source: StrictStr | None = None
    value: StrictFloat | StrictInt | StrictStr | None = None


class LeadRequest(BaseModel):
    """A lead to score: its id, optional attributes, optional new events, optional as_of."""

    model_config = ConfigDict(extra="forbid")

    lead_id: StrictStr = Field(min_length=1, description="the CRM id")
    attributes: dict[str, RawValue] = Field(
        default_factory=dict,
        description="raw lead columns (created_at, job title, ...) that replace the stored ones",
    )
    events: list[Event] = Field(default_factory=list, description="events after the build")
    as_of: datetime | None = Field(None, description="score as of this time (default: now)")


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    leads: list[LeadRequest] = Field(min_length=1)


class Factor(BaseModel):
    """One entry of lead_scores.top_factors, passed through as the mart writes it."""

    model_config = ConfigDict(extra="allow")

    feature: str
    value: str | float | int | bool | None
    contribution: float
    reason: str | None


class LeadScore(BaseModel):
    """A lead's row of lead_scores as the build would write it (NULL columns as null)."""

    lead_id: str
    conversion_probability: float | None
    score: int | None
    tier: str | None
    fit_score: int | None
    engagement_score: int | None
    top_factors: list[Factor]
    top_reasons: str | None
    score_status: str
    model_version: str
    feature_schema_hash: str
    as_of: datetime
    known_lead: bool = Field(description="the lead's stored history was used")
    events_used: int = Field(description="events in the lead's timeline before as_of")
    duplicate_events_ignored: int


#: the fields of a LeadScore that are the serving query's columns of the same name
SCORED_COLUMNS = tuple(
    name
    for name in LeadScore.model_fields
    if name not in ("top_factors", "duplicate_events_ignored")
)


class BatchResponse(BaseModel):
    model_version: str
    scores: list[LeadScore]


class ModelInfo(BaseModel):
    version: str
    feature_schema_hash: str
    features: list[dict[str, str]]
    metrics: dict[str, Any]
    calibration: str | None
    snapshot: str
    snapshot_as_of: datetime
    snapshot_built_at: datetime
    loaded_at: datetime


# ------------------------------------------------------------------------------ errors
class InputProblem(Exception):
    """Bad input found after validation (by the staging checks); answered with a 422."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors)
        self.errors = errors


_HINTS = {
    "extra_forbidden": "remove this field (see /docs for the fields a request takes)",
    "missing": "add this field",
    "string_type": "send this value as a JSON string",
    "datetime_from_date_parsing": "send an ISO 8601 time, e.g. 2026-06-01T09:30:00Z",
    "datetime_parsing": "send an ISO 8601 time, e.g. 2026-06-01T09:30:00Z",
    "datetime_type": "send an ISO 8601 time, e.g. 2026-06-01T09:30:00Z",
    "too_long": "send fewer items, or split the request",
    "too_short": "send at least one item",
    "json_invalid": "send a valid JSON body",
    "model_attributes_type": "send a JSON object",
    "dict_type": "send a JSON object",
    "list_type": "send a JSON array",
}

#: staging's reject reasons for a request's event -> (field, what to do)
_EVENT_FIELDS = {
    "missing occurred_at": ("occurred_at", "add the time the event happened"),
    "unparseable occurred_at": (
        "occurred_at",
        "send a timestamp such as 2026-05-31 10:15:00 or 2026-05-31T10:15:00Z",
    ),
    "after as_of": ("occurred_at", "send only events before as_of, or a later as_of"),
    "before the lead was created": (
        "occurred_at",
        "send only events after the lead's created_at, or correct created_at",
    ),
    "missing channel or event_type": ("channel", "fill in channel and event_type"),
    "non-numeric value": ("value", "send a number, or leave value out"),
}


def _error(loc: list[Any], msg: str, kind: str, hint: str) -> dict[str, Any]:
    return {"loc": loc, "msg": msg, "type": kind, "hint": hint}


def _unprocessable(errors: list[dict[str, Any]]) -> JSONResponse:
    return JSONResponse(status_code=422, content={"detail": errors})


def _unavailable(message: str) -> JSONResponse:
    return JSONResponse(status_code=503, content={"detail": message}, headers={"Retry-After": "5"})


class BodyLimit:
    """Refuses a body over max_bytes with a 422 before it is read into memory."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = _unprocessable(
            [
                _error(
                    ["body"],
                    f"the request body is larger than {self.max_bytes} bytes",
                    "body_too_large",
                    "send fewer leads or events per request (POST /v1/score/batch in parts)",
                )
            ]
        )
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass


# ------------------------------------------------------------------------------ scoring
def _text(value: RawValue) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return repr(value)
    return str(value)


def _as_of(value: datetime | None) -> datetime:
    """A naive UTC time, as staging keeps timestamps."""
    if value is None:
        return datetime.now(timezone.utc).replace(tzinfo=None)
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def _where(batch: bool, i: int) -> list[Any]:
    return ["leads", i] if batch else []


def _check_request(
    leads: list[LeadRequest], state: ServingState, settings: ServeSettings, batch: bool
) -> list[LeadInput]:
    """Checks staging cannot make (fields, lead ids, limits); the raw inputs of the query."""
    contract = state.query.contract
    allowed = [c for c in state.query.lead_columns if c != contract["lead_id_column"]]
    errors: list[dict[str, Any]] = []
    inputs = []
    seen: set[str] = set()
    for i, lead in enumerate(leads):
        at = _where(batch, i)
        lead_id = lead.lead_id.strip()
        if not lead_id:
            errors.append(_error([*at, "lead_id"], "lead_id is blank", "value_error",
                                 "send the lead's CRM id"))
        if lead_id in seen:
            errors.append(_error([*at, "lead_id"], f"lead {lead_id} appears twice in the batch",
                                 "value_error", "send each lead once"))
        seen.add(lead_id)
        for name in lead.attributes:
            if name not in allowed:
                errors.append(_error([*at, "attributes", name], f"unknown attribute {name!r}",
                                     "extra_forbidden", f"use one of: {', '.join(allowed)}"))
        if len(lead.events) > settings.max_events:
            errors.append(_error([*at, "events"],
                                 f"{len(lead.events)} events, more than the limit of "
                                 f"{settings.max_events}", "too_long",
                                 "send only the events since the last build, or split them"))
        events = []
        for k, event in enumerate(lead.events):
            if event.lead_id is not None and event.lead_id.strip() != lead_id:
                errors.append(_error([*at, "events", k, "lead_id"],
                                     f"event for lead {event.lead_id!r} in the request of lead "
                                     f"{lead_id!r}", "value_error",
                                     "send each lead's events with that lead (or omit lead_id)"))
            raw = {name: _text(value) for name, value in event.model_dump().items()}
            raw["lead_id"] = lead_id
            events.append(raw)
        attributes = {name: _text(value) for name, value in lead.attributes.items()}
        inputs.append(LeadInput(lead_id=lead_id, attributes=attributes, events=events))
    if errors:
        raise InputProblem(errors)
    return inputs


def _lead_problem(reason: str, at: list[Any], contract: dict[str, Any]) -> dict[str, Any]:
    created = contract.get("created_at_column") or "created_at"
    if reason == "missing created_at":
        return _error([*at, "attributes", created],
                      "this lead is not in the snapshot, so it needs its created_at",
                      "missing", "add attributes.created_at (when the lead was created)")
    for column in [created, *contract["attributes"], *contract["pii"]]:
        if reason.endswith(column):
            return _error([*at, "attributes", column], f"{reason}", "value_error",
                          f"send a valid {column}" + (
                              " not after as_of" if "after as_of" in reason else ""))
    return _error([*at, "lead_id"], reason, "value_error", "check the lead's id and attributes")


def _score(
    leads: list[LeadRequest], state: ServingState, settings: ServeSettings, batch: bool
) -> list[LeadScore]:
    inputs = _check_request(leads, state, settings, batch)
    # leads with different as_of run as separate queries (the features take one cutoff each)
    groups: dict[datetime, list[int]] = {}
    for i, lead in enumerate(leads):
        groups.setdefault(_as_of(lead.as_of), []).append(i)
    rows: dict[int, dict[str, Any]] = {}
    # a query numbers its events in order; where each lead's own events start
    first_event: dict[int, int] = {}
    for as_of, members in groups.items():
        for i, row in zip(members, state.score([inputs[i] for i in members], as_of), strict=True):
            rows[i] = row
        start = 0
        for i in members:
            first_event[i] = start
            start += len(inputs[i].events)
    errors: list[dict[str, Any]] = []
    results = []
    for i in range(len(inputs)):
        row = rows[i]
        at = _where(batch, i)
        if row["lead_problem"]:
            errors.append(_lead_problem(row["lead_problem"], at, state.query.contract))
            continue
        for problem in row["event_problems"]:
            k = problem["row"] - first_event[i]
            field, hint = _EVENT_FIELDS.get(problem["reason"], ("lead_id", "check the event"))
            errors.append(_error([*at, "events", k, field], problem["reason"], "value_error",
                                 hint))
        if row["event_problems"]:
            continue
        if row.get("lead_id") is None:  # no lead_scores row
            errors.append(_error([*at, "as_of"], "the lead was not scored: created after as_of?",
                                 "value_error", "check created_at and as_of"))
            continue
        factors = row["top_factors"]
        results.append(
            LeadScore(
                **{name: row[name] for name in SCORED_COLUMNS},
                top_factors=json.loads(factors) if isinstance(factors, str) else factors or [],
                duplicate_events_ignored=row["duplicate_events"],
            )
        )
    if errors:
        raise InputProblem(errors)
    return results


# ------------------------------------------------------------------------------ the app
def create_app(settings: ServeSettings | None = None, engine: Engine | None = None) -> FastAPI:
    """The FastAPI application (settings from the environment when not given)."""
    settings = settings or ServeSettings.from_env()
    engine = engine or Engine(
        settings.snapshot,
        settings.artifacts,
        settings.model_version,
        settings.connections,
        settings.poll_seconds,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine.start()
        yield
        engine.stop()

    app = FastAPI(
        title="leadscore",
        summary="Score a lead in real time with the build's features and model",
        version="1",
        lifespan=lifespan,
    )
    app.state.engine = engine
    app.state.settings = settings
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for error in exc.errors():
            kind = error.get("type", "value_error")
            errors.append(
                _error(
                    [part for part in error.get("loc", ()) if part != "body"] or ["body"],
                    error.get("msg", "invalid value"),
                    kind,
                    _HINTS.get(kind, "see /docs for what this field takes"),
                )
            )
        return _unprocessable(errors)

    @app.exception_handler(InputProblem)
    async def bad_input(request: Request, exc: InputProblem) -> JSONResponse:
        return _unprocessable(exc.errors)

    @app.exception_handler(Unavailable)
    async def unavailable(request: Request, exc: Unavailable) -> JSONResponse:
        return _unavailable(str(exc))

    @app.exception_handler(Exception)
    async def failed(request: Request, exc: Exception) -> JSONResponse:
        log.error("request failed: %s: %s", type(exc).__name__, exc, exc_info=exc)
        return JSONResponse(
            status_code=500,
            content={"detail": f"the request could not be scored ({type(exc).__name__}); "
                     "the server log has the details"},
        )

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        """The process is up (it may still be loading: see /readyz)."""
        return {"status": "ok"}

    @app.get("/readyz", responses={503: {"description": "no model or snapshot yet"}})
    def readyz() -> JSONResponse:
        """A model is loaded and the snapshot is readable."""
        try:
            state = engine.state()
            state.known_leads([""])
        except Unavailable as exc:
            return _unavailable(str(exc))
        return JSONResponse({"status": "ready", "model_version": state.model_version,
                             "snapshot_built_at": str(state.snapshot_built_at)})

    @app.get("/v1/model", response_model=ModelInfo)
    def model() -> ModelInfo:
        """The model that answers: version, features, metrics, and the snapshot it reads."""
        state = engine.state()
        return ModelInfo(
            **state.model,
            snapshot=str(state.snapshot),
            snapshot_as_of=state.snapshot_as_of,
            snapshot_built_at=state.snapshot_built_at,
            loaded_at=state.loaded_at,
        )

    @app.post("/v1/score", response_model=LeadScore)
    async def score(lead: LeadRequest) -> LeadScore:
        """Score one lead: its stored history plus the request's events, as of as_of."""
        state = engine.state()
        return (await run_in_threadpool(_score, [lead], state, settings, False))[0]

    @app.post("/v1/score/batch", response_model=BatchResponse)
    async def score_batch(batch: BatchRequest) -> BatchResponse:
        """Score up to max_batch leads in one query."""
        if len(batch.leads) > settings.max_batch:
            raise InputProblem([_error(["leads"], f"{len(batch.leads)} leads, more than the "
                                       f"limit of {settings.max_batch}", "too_long",
                                       f"send at most {settings.max_batch} leads per request")])
        state = engine.state()
        scores = await run_in_threadpool(_score, batch.leads, state, settings, True)
        return BatchResponse(model_version=state.model_version, scores=scores)

    return app

