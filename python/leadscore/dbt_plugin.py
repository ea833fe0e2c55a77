"""dbt-duckdb plugin: registers leadscore's scoring functions on every dbt connection.

Configured in profiles.yml::

    plugins:
      - module: leadscore.dbt_plugin
        config: {artifacts_dir: artifacts}

The model is loaded lazily, once per process and version (see leadscore.scoring.get_scorer),
so a build that scores nothing never pays for it and a failed load surfaces as a dbt error
that says what to do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

from leadscore import udf
from leadscore.config import artifacts_dir

__all__ = ["Plugin"]


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        configured = plugin_config.get("artifacts_dir")
        self.root = Path(configured).resolve() if configured else artifacts_dir()

    def configure_connection(self, conn: Any) -> None:
        udf.register(conn, self.root)
