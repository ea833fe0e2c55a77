"""crm.yml: where `leadscore sync` sends scores, how it maps them, how hard it retries."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "OUTBOX_COLUMNS",
    "TOKEN_ENV",
    "RateLimit",
    "Retry",
    "SyncConfig",
    "SyncError",
    "load_config",
]

TOKEN_ENV = "LEADSCORE_CRM_TOKEN"
DESTINATIONS = ("webhook", "hubspot", "salesforce")
# columns of crm_outbox a mapping may name (lead_id is the upsert key)
OUTBOX_COLUMNS = (
    "lead_id",
    "score",
    "probability",
    "tier",
    "scored_at",
    "model_version",
    "top_factors",
    "score_confidence",
)
DEFAULT_FIELDS: dict[str, dict[str, str]] = {
    "webhook": {column: column for column in OUTBOX_COLUMNS},
    "hubspot": {column: f"leadscore_{column}" for column in OUTBOX_COLUMNS},
    "salesforce": {
        "lead_id": "LeadScore_Lead_Id__c",
        "score": "LeadScore_Score__c",
        "probability": "LeadScore_Probability__c",
        "tier": "LeadScore_Tier__c",
        "scored_at": "LeadScore_Scored_At__c",
        "model_version": "LeadScore_Model_Version__c",
        "top_factors": "LeadScore_Top_Factors__c",
        "score_confidence": "LeadScore_Confidence__c",
    },
}
MAX_BATCH = {"webhook": 10_000, "hubspot": 100, "salesforce": 200}
# requests per period: HubSpot's documented burst limit for private apps; Salesforce counts
# API calls per day rather than per second, so a pace that spends a small daily allowance
DEFAULT_RATE = {"webhook": (10, 1.0), "hubspot": (100, 10.0), "salesforce": (25, 20.0)}
_CREDENTIAL_KEYS = {"token", "api_key", "apikey", "access_token", "password", "secret"}


class SyncError(Exception):
    """A problem `leadscore sync` reports in one line; nothing was sent or changed by it."""


@dataclass(frozen=True)
class RateLimit:
    requests: int
    per_seconds: float


@dataclass(frozen=True)
class Retry:
    attempts: int = 5  # tries of a record within one run
    backoff_seconds: float = 1.0  # first wait; doubles each try, with jitter
    max_backoff_seconds: float = 60.0  # a longer wait (or Retry-After) ends the run's tries
    next_run_after_seconds: float = 300.0  # a record left for later waits at least this long


@dataclass(frozen=True)
class SyncConfig:
    destination: str
    url: str
    batch_size: int
    fields: dict[str, str]
    rate_limit: RateLimit
    retry: Retry = field(default_factory=Retry)
    timeout_seconds: float = 30.0
    name: str = ""  # the destination's key in the state file
    published: Path = Path("published")
    state: Path = Path("sync/state.duckdb")
    sobject: str = "Lead"
    api_version: str = "62.0"

    @property
    def mapping_fingerprint(self) -> str:
        """What shapes a request besides the record: a change sends every lead again."""
        shape = [self.destination, sorted(self.fields.items()), self.sobject]
        return hashlib.md5(json.dumps(shape).encode()).hexdigest()


def _publish_dir() -> Path:
    from leadscore.config import project_dir

    path = Path(os.environ.get("LEADSCORE_PUBLISH_DIR", "published"))
    return path if path.is_absolute() else project_dir() / path


def _number(raw: dict[str, Any], key: str, default: float, where: str, kind: type = float) -> Any:
    value = raw.get(key, default)
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise SyncError(f"{where}: {key} must be a number, got {value!r}") from None
    if number < 0 or (kind is int and number < 1):
        raise SyncError(f"{where}: {key} must be positive, got {value!r}")
    return number


def _refuse_credentials(raw: Any, where: str, path: str = "") -> None:
    if isinstance(raw, dict):
        for key, value in raw.items():
            if str(key).lower() in _CREDENTIAL_KEYS:
                raise SyncError(
                    f"{where}: '{path}{key}' looks like a credential. Remove it from the file "
                    f"and set the environment variable {TOKEN_ENV} instead."
                )
            _refuse_credentials(value, where, f"{path}{key}.")


def load_config(path: Path) -> SyncConfig:
    """Read and check crm.yml; every error names the file and the field."""
    where = str(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise SyncError(f"{where} does not exist. See examples/crm/crm.yml") from None
    except yaml.YAMLError as exc:
        raise SyncError(f"{where} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise SyncError(f"{where} must be a mapping with at least destination and url")
    _refuse_credentials(raw, where)
    destination = raw.get("destination")
    if destination not in DESTINATIONS:
        raise SyncError(
            f"{where}: destination must be one of {', '.join(DESTINATIONS)}, got {destination!r}"
        )
    url = raw.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise SyncError(f"{where}: url must be an http(s) URL, got {url!r}")
    batch_size = _number(raw, "batch_size", MAX_BATCH[destination], where, int)
    if batch_size > MAX_BATCH[destination]:
        raise SyncError(
            f"{where}: batch_size {batch_size} is above what {destination} accepts in one "
            f"request ({MAX_BATCH[destination]})"
        )
    fields = raw.get("fields", DEFAULT_FIELDS[destination])
    if not isinstance(fields, dict) or not fields:
        raise SyncError(f"{where}: fields must map crm_outbox columns to CRM field names")
    unknown = sorted(set(fields) - set(OUTBOX_COLUMNS))
    if unknown:
        raise SyncError(
            f"{where}: fields names unknown crm_outbox columns {', '.join(unknown)}; "
            f"known: {', '.join(OUTBOX_COLUMNS)}"
        )
    if "lead_id" not in fields:
        raise SyncError(f"{where}: fields must map lead_id (the key every upsert matches on)")
    fields = {str(k): str(v) for k, v in fields.items()}
    requests, per = DEFAULT_RATE[destination]
    rate = raw.get("rate_limit") or {}
    retry = raw.get("retry") or {}
    defaults = Retry()
    published = Path(raw.get("published") or _publish_dir())
    return SyncConfig(
        destination=destination,
        url=url.rstrip("/"),
        batch_size=batch_size,
        fields=fields,
        rate_limit=RateLimit(
            requests=_number(rate, "requests", requests, f"{where}: rate_limit", int),
            per_seconds=_number(rate, "per_seconds", per, f"{where}: rate_limit"),
        ),
        retry=Retry(
            attempts=_number(retry, "attempts", defaults.attempts, f"{where}: retry", int),
            backoff_seconds=_number(
                retry, "backoff_seconds", defaults.backoff_seconds, f"{where}: retry"
            ),
            max_backoff_seconds=_number(
                retry, "max_backoff_seconds", defaults.max_backoff_seconds, f"{where}: retry"
            ),
            next_run_after_seconds=_number(
                retry, "next_run_after_seconds", defaults.next_run_after_seconds, f"{where}: retry"
            ),
        ),
        timeout_seconds=_number(raw, "timeout_seconds", 30.0, where),
        name=str(raw.get("name") or f"{destination} {url.rstrip('/')}"),
        published=published,
        state=Path(raw.get("state") or published.parent / "sync" / "state.duckdb"),
        sobject=str(raw.get("sobject", "Lead")),
        api_version=str(raw.get("api_version", "62.0")),
    )
