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
from dbt_common.exceptions import DbtRuntimeError

from leadscore import udf
from leadscore.config import artifacts_dir, busy_message

__all__ = ["Plugin"]


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        configured = plugin_config.get("artifacts_dir")
        self.root = Path(configured).resolve() if configured else artifacts_dir()
        self._refuse_a_busy_warehouse()

    def _refuse_a_busy_warehouse(self) -> None:
        """Fail at once, in one readable line, when another process holds the warehouse.

        DuckDB allows one writer per file; without this, dbt prints a long chained traceback.
        """
        path = getattr(self.creds, "path", None)
        if not path or path == ":memory:" or not Path(path).exists():
            return
        busy = busy_message(path, read_only=False)
        if busy:
            raise DbtRuntimeError(
                busy + ", most likely another dbt build or a tool holding it open. Nothing was "
                "changed. Wait for it to finish (or close it), then run again. BI tools should "
                "read the published marts instead (see README)."
            )

    def configure_connection(self, conn: Any) -> None:
        udf.register(conn, self.root)
