"""`leadscore serve`: score one lead in milliseconds with the build's SQL and model.

The service runs the project's own compiled models (staging checks, timeline, the
``leadscore_features`` macro, the scoring mart) over a request and the lead's stored history
from the published serving snapshot, scoring with the same Scorer the warehouse UDF uses.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from leadscore.config import add_path_option, settings_from_args
from leadscore.serve.api import ServeSettings, create_app
from leadscore.serve.engine import Engine, Unavailable

__all__ = ["Engine", "ServeSettings", "Unavailable", "create_app", "main"]


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    defaults = ServeSettings.from_env()
    parser = argparse.ArgumentParser(
        prog="leadscore serve",
        description="Serve real-time scores over HTTP (POST /v1/score; OpenAPI at /docs). "
        "Reads the champion model and the published serving snapshot read-only, and picks up "
        "`leadscore promote` and new builds without a restart.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (127.0.0.1; 0.0.0.0 for all)"
    )
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
    parser.add_argument(
        "--model-version", default=defaults.model_version,
        help="serve this version (default: the champion, followed as it is promoted)",
    )
    parser.add_argument(
        "--snapshot", type=Path, default=defaults.snapshot,
        help="serving snapshot (default: $LEADSCORE_PUBLISH_DIR/serving.duckdb)",
    )
    add_path_option(parser, "--artifacts", defaults.artifacts)
    parser.add_argument("--max-batch", type=int, default=defaults.max_batch,
                        help="most leads in one POST /v1/score/batch")
    parser.add_argument("--max-events", type=int, default=defaults.max_events,
                        help="most events per lead in a request")
    parser.add_argument("--max-body-bytes", type=int, default=defaults.max_body_bytes,
                        help="largest request body accepted (a larger one gets a 422)")
    parser.add_argument("--connections", type=int, default=defaults.connections,
                        help="queries that may run at once")
    parser.add_argument("--poll-seconds", type=float, default=defaults.poll_seconds,
                        help="how often to look for a new champion or snapshot")
    args = parser.parse_args(argv)
    settings = settings_from_args(ServeSettings, args)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info")
    return 0
