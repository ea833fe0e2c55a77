"""The three CRM request shapes, and what each response says about every record sent.

Pure functions: records in, (method, url, body) out; a response in, an Outcome out. A record is
a row of crm_outbox as a dict. HTTP-level answers every destination shares (401/403, 429, 5xx,
timeouts) are handled by the delivery loop; these functions read a 2xx answer, or a 4xx that
may name the records it rejects.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from leadscore.sync.config import SyncConfig

__all__ = ["Outcome", "build_request", "map_record", "read_rejection", "read_success"]

Record = dict[str, Any]
# Salesforce per-record codes that say "try again later", not "this record is wrong"
_SALESFORCE_RETRYABLE = {"UNABLE_TO_LOCK_ROW", "REQUEST_LIMIT_EXCEEDED", "SERVER_UNAVAILABLE"}
_HUBSPOT_RETRYABLE = {"RATE_LIMITS", "INTERNAL_ERROR", "TIMEOUT"}
_MESSAGE_CHARS = 1000


@dataclass
class Outcome:
    """What a response said: each lead acknowledged, rejected for good, or to try again."""

    acknowledged: list[str] = field(default_factory=list)
    dead: dict[str, tuple[str, str]] = field(default_factory=dict)  # lead -> (status, message)
    retry: dict[str, str] = field(default_factory=dict)  # lead -> why


def _value(column: str, value: Any, destination: str) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if column == "top_factors" and destination != "webhook":
        return "\n".join(value or [])  # one text field in a CRM
    if destination == "hubspot" and value is not None and not isinstance(value, str):
        return str(value)  # HubSpot property values are strings
    return value


def map_record(record: Record, config: SyncConfig) -> dict[str, Any]:
    """The record under the CRM's field names, as the destination expects the values."""
    return {
        crm: _value(column, record[column], config.destination)
        for column, crm in config.fields.items()
    }


def build_request(records: list[Record], config: SyncConfig) -> tuple[str, str, dict[str, Any]]:
    """(method, url, JSON body) of one batch upsert."""
    key = config.fields["lead_id"]
    if config.destination == "hubspot":
        inputs = []
        for record in records:
            properties = map_record(record, config)
            inputs.append({"id": properties.pop(key), "idProperty": key, "properties": properties})
        return "POST", f"{config.url}/crm/v3/objects/contacts/batch/upsert", {"inputs": inputs}
    if config.destination == "salesforce":
        path = (
            f"/services/data/v{config.api_version}/composite/sobjects/{config.sobject}/{key}"
        )
        body = {
            "allOrNone": False,
            "records": [
                {"attributes": {"type": config.sobject}, **map_record(r, config)} for r in records
            ],
        }
        return "PATCH", config.url + path, body
    return "POST", config.url, {"records": [map_record(r, config) for r in records]}


def message_of(response: httpx.Response) -> str:
    """The response body, short enough to store."""
    text = response.text.strip() or response.reason_phrase
    return f"HTTP {response.status_code}: {text[:_MESSAGE_CHARS]}"


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def _hubspot_named(error: dict[str, Any]) -> list[str]:
    """The input ids a HubSpot batch error names (context.ids, context.id or id)."""
    context = error.get("context") or {}
    named: list[Any] = []
    for key in ("ids", "id"):
        value = context.get(key) if isinstance(context, dict) else None
        named.extend(value if isinstance(value, list) else [value] if value else [])
    if not named and error.get("id"):
        named.append(error["id"])
    return [str(n) for n in named]


def _read_hubspot(records: list[Record], body: Any, outcome: Outcome) -> None:
    leads = [str(r["lead_id"]) for r in records]
    errors = body.get("errors", []) if isinstance(body, dict) else []
    unattributed = []
    for error in errors:
        category = str(error.get("category", ""))
        text = f"{category}: {error.get('message', '')}"[:_MESSAGE_CHARS]
        named = [n for n in _hubspot_named(error) if n in leads]
        if not named:
            unattributed.append(text)
        for lead in named:
            if category in _HUBSPOT_RETRYABLE:
                outcome.retry[lead] = text
            else:
                outcome.dead[lead] = (category or "error", text)
    for lead in leads:
        if lead in outcome.dead or lead in outcome.retry:
            continue
        if unattributed:
            # an error that names no record: none of the others can be counted as delivered
            outcome.retry[lead] = "; ".join(unattributed)[:_MESSAGE_CHARS]
        else:
            outcome.acknowledged.append(lead)


def _read_salesforce(records: list[Record], body: Any, outcome: Outcome) -> None:
    if not isinstance(body, list) or len(body) != len(records):
        for record in records:
            outcome.retry[str(record["lead_id"])] = "no result per record"
        return
    for record, result in zip(records, body, strict=True):  # results come back in request order
        lead = str(record["lead_id"])
        if result.get("success"):
            outcome.acknowledged.append(lead)
            continue
        errors = result.get("errors") or [{}]
        codes = {str(e.get("statusCode", "")) for e in errors}
        text = "; ".join(
            f"{e.get('statusCode', 'error')}: {e.get('message', '')}" for e in errors
        )[:_MESSAGE_CHARS]
        if codes & _SALESFORCE_RETRYABLE:
            outcome.retry[lead] = text
        else:
            outcome.dead[lead] = (sorted(codes)[0] or "error", text)


def read_success(records: list[Record], response: httpx.Response, config: SyncConfig) -> Outcome:
    """A 2xx answer: what it says per record."""
    outcome = Outcome()
    if config.destination == "hubspot":
        _read_hubspot(records, _json(response), outcome)
    elif config.destination == "salesforce":
        _read_salesforce(records, _json(response), outcome)
    else:
        outcome.acknowledged = [str(r["lead_id"]) for r in records]
    return outcome


def read_rejection(records: list[Record], response: httpx.Response, config: SyncConfig) -> Outcome:
    """A 4xx for the whole request (not 401/403/429): the records it names are rejected and
    the others, which the CRM did not apply, go again; a rejection naming none rejects all."""
    outcome = Outcome()
    if config.destination == "hubspot":
        _read_hubspot(records, _json(response), outcome)
        if outcome.dead:
            outcome.retry.update({lead: "sent again without the rejected records"
                                  for lead in outcome.acknowledged})
            outcome.acknowledged = []
            return outcome
        outcome = Outcome()
    message = message_of(response)
    for record in records:
        outcome.dead[str(record["lead_id"])] = (str(response.status_code), message)
    return outcome
