"""The same dbt project on Apache Spark: ``leadscore build --target spark [--master URL]``.

``build`` starts a SparkSession on the master given (``local[*]`` by default; a
``spark://host:7077`` standalone master, ``yarn`` or ``k8s://...`` run the same code on a
cluster), then, in this process and on that session:

1. registers leadscore's functions as Spark UDFs (:func:`register_functions`): the same
   ``Scorer`` (float32-floored ONNX model plus calibration), the same TreeSHAP contributions and
   the same reasons as the DuckDB functions of ``leadscore.udf``, vectorised with Arrow;
2. reads the raw inputs (CSV or Parquet in the data folder, every CSV value as text) into the
   ``leadscore_raw`` schema (:func:`load_raw_inputs`), rows that do not parse listed in
   ``leadscore_raw.malformed_rows`` as on DuckDB, and the model registry of the versions in
   artifacts/models into ``leadscore_models`` (:func:`load_registry`), as training writes it
   into the DuckDB warehouse;
3. runs dbt with ``dbt.cli.main.dbtRunner`` on the ``spark`` target (dbt-spark, session method).
   dbt-spark's session method calls ``getOrCreate()`` for every statement, so it gets this
   session and the functions on it.

The models are written in DuckDB's SQL. On Spark each model's query is translated to Spark SQL
by sqlglot (:func:`translate`) where dbt-spark runs it; the constructs sqlglot cannot translate
go through ``adapter.dispatch`` macros (``macros/spark/``).

The metastore (Derby) and the warehouse folder live under ``--spark-home`` (default
``$LEADSCORE_SPARK_HOME``, else ``spark/`` in the project), never in the working directory.
"""

from __future__ import annotations

import csv
import os
import re
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from leadscore.config import artifacts_dir, project_dir

__all__ = [
    "DEFAULT_MASTER",
    "RAW_SCHEMA",
    "build",
    "export_tables",
    "load_raw_inputs",
    "load_registry",
    "main",
    "register_functions",
    "spark_home",
    "spark_session",
    "translate",
]

DEFAULT_MASTER = "local[*]"
RAW_SCHEMA = "leadscore_raw"
RAW_INPUTS = ("leads", "events", "conversions")
#: where a model's DuckDB SQL starts and ends inside a statement dbt-spark runs
DUCKDB_BEGIN = "/* leadscore:duckdb */"
DUCKDB_END = "/* leadscore:end */"


def spark_home() -> Path:
    """Metastore and warehouse folder: $LEADSCORE_SPARK_HOME, else spark/ in the project."""
    env = os.environ.get("LEADSCORE_SPARK_HOME")
    return Path(env).resolve() if env else project_dir() / "spark"


def spark_session(
    master: str = DEFAULT_MASTER,
    home: Path | None = None,
    *,
    shuffle_partitions: int | None = None,
    app_name: str = "leadscore",
    catalog: str = "hive",
    conf: Mapping[str, str] | None = None,
) -> Any:
    """A SparkSession on `master` with its metastore and warehouse under `home`.

    Python workers run this interpreter (PYSPARK_PYTHON) with this PYTHONPATH, so they import the
    same leadscore, onnxruntime and LightGBM as the driver. `catalog` "hive" keeps the tables'
    catalog in a Derby metastore under `home` (one build's tables are there for the next);
    "in-memory" keeps it in this session only (no metastore: one process that builds and reads).
    `conf`: more Spark settings.
    """
    if catalog not in ("hive", "in-memory"):
        raise ValueError(f"catalog must be 'hive' or 'in-memory', not {catalog!r}")
    from pyspark.sql import SparkSession

    home = (home or spark_home()).resolve()
    home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    python_path = os.pathsep.join(
        p for p in [os.environ.get("PYTHONPATH", ""), str(Path(__file__).resolve().parents[1])] if p
    )
    os.environ["PYTHONPATH"] = python_path
    metastore = home / "metastore_db"
    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.sql.warehouse.dir", str(home / "warehouse"))
        .config(
            "spark.hadoop.javax.jdo.option.ConnectionURL",
            f"jdbc:derby:;databaseName={metastore};create=true",
        )
        # the metastore is a cache of what dbt rebuilds: no fsync per catalog change
        .config(
            "spark.driver.extraJavaOptions",
            f"-Dderby.system.home={home} -Dderby.system.durability=test",
        )
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.executorEnv.PYTHONPATH", python_path)
        .config("spark.executorEnv.PYSPARK_PYTHON", os.environ["PYSPARK_PYTHON"])
        .config("spark.pyspark.python", os.environ["PYSPARK_PYTHON"])
        .config("spark.ui.enabled", "false")
        .config("spark.sql.legacy.createHiveTableByDefault", "false")
    )
    if shuffle_partitions:
        builder = builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions))
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    if catalog == "hive":
        builder = builder.enableHiveSupport()
    else:
        builder = builder.config("spark.sql.catalogImplementation", "in-memory")
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


# --- functions -----------------------------------------------------------------------------


def register_functions(spark: Any, root: Path | None = None) -> None:
    """Register leadscore_score, leadscore_contributions, leadscore_explain,
    leadscore_model_info and leadscore_pii_salt on `spark` (see leadscore.udf for what each does).
    """
    from pyspark.sql.functions import ArrowUDFType, arrow_udf, udf
    from pyspark.sql.types import (
        ArrayType,
        DoubleType,
        StringType,
        StructField,
        StructType,
    )

    from leadscore.udf import model_functions

    root = (root or artifacts_dir()).resolve()
    # read on the driver: workers of a cluster do not share its environment
    salt = os.environ.get("LEADSCORE_PII_SALT") or _default_salt()

    functions = model_functions(root)

    def pii_salt() -> str:
        return salt

    doubles = ArrayType(DoubleType())
    reasons = StructType(
        [StructField("top_factors", StringType()), StructField("top_reasons", StringType())]
    )
    for name, returns in (
        ("leadscore_score", DoubleType()),
        ("leadscore_contributions", doubles),
        ("leadscore_explain", reasons),
    ):
        spark.udf.register(name, arrow_udf(functions[name], returns, ArrowUDFType.SCALAR))
    spark.udf.register(
        "leadscore_model_info",
        udf(functions["leadscore_model_info"], StringType()).asNondeterministic(),
    )
    spark.udf.register("leadscore_pii_salt", udf(pii_salt, StringType()))


def _default_salt() -> str:
    from leadscore.udf import DEFAULT_PII_SALT

    return DEFAULT_PII_SALT


# --- raw inputs ----------------------------------------------------------------------------


def _input_file(data_dir: Path, name: str) -> Path | None:
    found = [
        p
        for pattern in (f"{name}.csv", f"{name}.csv.gz", f"{name}.parquet")
        for p in sorted(data_dir.glob(pattern))
    ]
    if len(found) > 1:
        raise SystemExit(
            f"Found more than one file for input '{name}' in {data_dir}: "
            f"{', '.join(map(str, found))}. Keep exactly one of {name}.csv or {name}.parquet."
        )
    return found[0] if found else None


def _read_csv(path: Path, delimiter: str) -> tuple[pa.Table, list[tuple[int, str]]]:
    """Every value as text (an empty one NULL), the header's names; rows that do not parse as
    (row, reason)."""
    with open(path, encoding="utf-8", errors="replace", newline="") as f:  # the header only
        header = next(csv.reader(f, delimiter=delimiter), None)
    if not header:
        raise SystemExit(
            f"Input {path} is empty: it does not even have a header line. Export it again."
        )
    names = [h.strip() or f"column{i}" for i, h in enumerate(header)]
    bad: list[tuple[int, str]] = []

    def invalid(row: Any) -> str:
        found = row.actual_columns
        fields = "field" if found == 1 else "fields"
        bad.append(
            (
                int(row.number) if row.number is not None else -1,
                f"malformed CSV row: {found} {fields}, the header has {row.expected_columns}",
            )
        )
        return "skip"

    table = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
        parse_options=pacsv.ParseOptions(
            delimiter=delimiter,
            quote_char='"',
            double_quote=True,
            newlines_in_values=True,
            invalid_row_handler=invalid,
        ),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            # an empty field, quoted or not, is NULL, as DuckDB's read_csv reads it
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
            null_values=[""],
        ),
    )
    return table, bad


def load_raw_inputs(spark: Any, data_dir: Path, delimiter: str = ",") -> dict[str, int]:
    """Tables leadscore_raw.<input>_file (every CSV value as text, plus leadscore_row_number,
    the row's position in its file) and leadscore_raw.malformed_rows; rows per input.

    The ``leadscore_register_raw_inputs`` hook then checks the contract and defines the
    ``leadscore_raw.<input>`` views the staging models read.
    """
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    spark.sql(f"create database if not exists {RAW_SCHEMA}")
    malformed: list[tuple[str, str, int, str]] = []
    counts: dict[str, int] = {}
    for name in RAW_INPUTS:
        target = f"{RAW_SCHEMA}.{name}_file"
        spark.sql(f"drop table if exists {target}")
        path = _input_file(data_dir, name)
        if path is None:
            if name == "leads":
                raise SystemExit(
                    f"No leads file in {data_dir} (expected leads.csv or leads.parquet). "
                    "Generate demo data with `leadscore generate`, or point LEADSCORE_DATA_DIR "
                    "at your export."
                )
            continue
        if path.suffix == ".parquet":
            table = pq.read_table(path)
        else:
            table, bad = _read_csv(path, delimiter)
            malformed += [(name, str(path), row, reason) for row, reason in bad]
        numbers = pa.array(np.arange(1, table.num_rows + 1, dtype=np.int64))
        table = table.append_column("leadscore_row_number", numbers)
        spark.createDataFrame(table).write.mode("overwrite").saveAsTable(target)
        counts[name] = table.num_rows
    schema = StructType(
        [
            StructField("input_name", StringType()),
            StructField("file", StringType()),
            StructField("file_row_number", LongType()),
            StructField("reject_reason", StringType()),
        ]
    )
    spark.createDataFrame(malformed, schema).write.mode("overwrite").saveAsTable(
        f"{RAW_SCHEMA}.malformed_rows"
    )
    return counts


# --- model registry ------------------------------------------------------------------------


def load_registry(spark: Any, root: Path | None = None) -> dict[str, int]:
    """The model registry of the versions in artifacts/models as tables of the Spark database
    ``leadscore_models`` (the dbt source the registry's staging models read); rows per table.

    The same rows as the DuckDB registry (:func:`leadscore.registry.artifact_registry_tables`),
    replaced whole on every build: the artifacts folder is the source of truth, the Spark
    catalog a copy of it.
    """
    from pyspark.sql.pandas.types import from_arrow_schema

    from leadscore.registry import SCHEMA, artifact_registry_tables

    root = (root or artifacts_dir()).resolve()
    spark.sql(f"create database if not exists {SCHEMA}")
    counts: dict[str, int] = {}
    for name, table in artifact_registry_tables(root).items():
        schema = from_arrow_schema(table.schema, prefer_timestamp_ntz=False)
        frame = (
            spark.createDataFrame(table) if table.num_rows else spark.createDataFrame([], schema)
        )
        # the project's timestamps are Spark's TIMESTAMP (UTC session), not TIMESTAMP_NTZ
        frame = frame.select(*(frame[f.name].cast(f.dataType).alias(f.name) for f in schema))
        frame.write.mode("overwrite").saveAsTable(f"{SCHEMA}.{name}")
        counts[name] = table.num_rows
    return counts


# --- DuckDB SQL on Spark ---------------------------------------------------------------------

_REGION = re.compile(re.escape(DUCKDB_BEGIN) + r"(.*?)" + re.escape(DUCKDB_END), re.S)
#: DuckDB functions sqlglot leaves as they are, in Spark SQL ({0}, {1}: the arguments)
_FUNCTIONS = {
    "isfinite": "(not (isnan({0}) or abs({0}) = double('Infinity')))",
    "isinf": "(abs({0}) = double('Infinity'))",
    # a TIMESTAMP WITH TIME ZONE as naive UTC (the session time zone is UTC)
    "timezone": "cast({1} as timestamp_ntz)",
    "list_position": "array_position({0}, {1})",
    "to_hours": "make_dt_interval(0, {0}, 0, 0)",
    "list_select": "transform({1}, leadscore_i -> element_at({0}, cast(leadscore_i as int)))",
    "list_sum": "aggregate({0}, cast(0 as double), (acc, x) -> acc + x)",
}
_SEED_DDL = re.compile(
    r"^\s*(?:(?:--[^\n]*\n)|(?:/\*.*?\*/)|\s)*(create\s+table|insert\s)", re.I | re.S
)
_BARE_VARCHAR = re.compile(r"\bvarchar\b(?!\s*\()", re.I)
_BACKTICKED = re.compile(r"`([^`]*)`")
_QUERY = re.compile(r"^\s*(?:(?:--[^\n]*\n)|(?:/\*.*?\*/)|\s)*(with|select)\b", re.I | re.S)


def translate(sql: str) -> str:
    """Spark SQL for a statement: the DuckDB regions a macro marked, or a whole DuckDB query
    (data tests, run_query), translated by sqlglot; anything else unchanged."""
    if DUCKDB_BEGIN in sql:
        return _REGION.sub(lambda m: _duckdb_to_spark(m.group(1)), sql)
    if _QUERY.match(sql):
        return _duckdb_to_spark(sql)
    if _SEED_DDL.match(sql):
        # seeds' column_types say varchar, which Spark knows only with a length
        return _BARE_VARCHAR.sub("string", sql)
    return sql


def _duckdb_to_spark(sql: str) -> str:
    import sqlglot
    from sqlglot import exp

    # identifiers dbt-spark quoted with backticks (adapter.quote) read as DuckDB's
    sql = _BACKTICKED.sub(lambda m: '"' + m.group(1).replace('"', '""') + '"', sql)
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError:
        return sql

    _inline_named_windows(tree)
    _zip_explodes(tree)
    # DuckDB reads a relation's name in an expression as its row (hash(events)): Spark, t.*
    relations = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)} | {
        t.alias_or_name.lower() for t in tree.find_all(exp.Table)
    }

    def fix(node: exp.Expression) -> exp.Expression:
        if (
            isinstance(node, exp.Column)
            and not node.table
            and isinstance(node.parent, exp.Func)
            and node.name.lower() in relations
        ):
            return exp.Column(this=exp.Star(), table=exp.to_identifier(node.name))
        # DuckDB divides to DOUBLE; Spark's decimal literals would make the result DECIMAL
        if isinstance(node, exp.Literal) and not node.is_string and "." in node.this:
            return exp.cast(node, "double")
        if isinstance(node, exp.CTE) and node.args.get("materialized") is not None:
            node.set("materialized", None)  # a planner hint Spark has no syntax for
            return node
        if isinstance(node, exp.IgnoreNulls) and isinstance(node.this, exp.AnyValue):
            # DuckDB's any_value skips NULLs; Spark's says so in an argument (and puts
            # IGNORE NULLS after FILTER, where sqlglot does not)
            return exp.Anonymous(this="any_value", expressions=[node.this.this, exp.true()])
        if (
            isinstance(node, exp.Window)
            and isinstance(node.this, exp.RowNumber)
            and not node.args.get("order")
        ):
            # DuckDB numbers rows in any order; Spark requires one (any is as good)
            keys = [k.copy() for k in node.args.get("partition_by") or []] or [
                exp.Literal.number(1)
            ]
            node.set("order", exp.Order(expressions=[exp.Ordered(this=k) for k in keys]))
            return node
        if (
            isinstance(node, exp.Bracket)
            and len(node.expressions) == 1
            and isinstance(node.expressions[0], exp.Neg)
        ):
            # a list counted from its end: DuckDB's l[-1] is Spark's element_at(l, -1) (sqlglot
            # has already moved the index to 0-based, -2)
            position = int(node.expressions[0].this.this) - 1
            return exp.Anonymous(
                this="element_at",
                expressions=[node.this.transform(fix), exp.Literal.number(-position)],
            )
        if isinstance(node, exp.First) and isinstance(node.this, exp.Order):
            return _first_by(node.this.transform(fix))
        if isinstance(node, exp.DayOfWeekIso):
            # Monday 1 .. Sunday 7 (Spark's weekday() counts Monday 0)
            return exp.Add(
                this=exp.Anonymous(this="weekday", expressions=[node.this.transform(fix)]),
                expression=exp.Literal.number(1),
            )
        if isinstance(node, exp.TimeToUnix):
            # epoch(): DuckDB's seconds keep their fraction; Spark's unix_timestamp drops it
            return sqlglot.parse_one(
                f"(unix_micros(cast({node.this.sql(dialect='spark')} as timestamp)) / 1000000d)",
                read="spark",
            )
        if (
            isinstance(node, exp.Anonymous)
            and node.name.lower() == "to_json"
            and len(node.expressions) == 1
        ):
            # DuckDB writes a struct's NULL fields ("campaign":null); Spark leaves them out
            # unless told
            return sqlglot.parse_one(
                f"to_json({node.expressions[0].transform(fix).sql(dialect='spark')}, "
                "map('ignoreNullFields', 'false'))",
                read="spark",
            )
        if isinstance(node, exp.Cast) and node.to.is_type(exp.DataType.Type.JSON):
            return node.this  # JSON text stays text (Spark has no JSON type)
        if isinstance(node, exp.RegexpLike) and node.args.get("flag"):
            flag = node.args["flag"]
            if isinstance(flag, exp.Literal) and "i" in flag.this:
                pattern = node.expression
                if isinstance(pattern, exp.Literal):
                    pattern = exp.Literal.string("(?i)" + pattern.this)
                else:
                    pattern = exp.func("concat", exp.Literal.string("(?i)"), pattern)
                return exp.RegexpLike(this=node.this, expression=pattern)
        if isinstance(node, exp.Anonymous):
            rewrite = _FUNCTIONS.get(node.name.lower())
            if rewrite is not None:
                return sqlglot.parse_one(
                    rewrite.format(
                        *(a.transform(fix).sql(dialect="spark") for a in node.expressions)
                    ),
                    read="spark",
                )
        return node

    return tree.transform(fix).sql(dialect="spark")


def _inline_named_windows(tree: Any) -> None:
    """Spark cannot extend a named window (``over (w rows between ...)``): write every window
    that names one out in full, and drop the WINDOW clause."""
    from sqlglot import exp

    for select in list(tree.find_all(exp.Select)):
        definitions = {w.name: w for w in select.args.get("windows") or []}
        if not definitions:
            continue
        for window in list(select.find_all(exp.Window)):
            alias = window.args.get("alias")
            if alias is None or alias.name not in definitions:
                continue
            if window.parent_select is not select:
                continue
            definition = definitions[alias.name]
            for key in ("partition_by", "order", "spec"):
                if definition.args.get(key) and not window.args.get(key):
                    value = definition.args[key]
                    window.set(
                        key, [v.copy() for v in value] if isinstance(value, list) else value.copy()
                    )
            window.set("alias", None)
        select.set("windows", None)


def _zip_explodes(tree: Any) -> None:
    """DuckDB unnests several lists of one select list side by side (the i-th elements on one
    row); Spark allows one generator per select: ``inline(arrays_zip(a, b)) as (x, y)``, which
    pads the shorter lists with NULL as DuckDB does. The unnests must be next to each other."""
    from sqlglot import exp

    for select in list(tree.find_all(exp.Select)):
        items = select.expressions
        positions = [
            i
            for i, item in enumerate(items)
            if isinstance(item, exp.Alias) and isinstance(item.this, exp.Explode)
        ]
        if len(positions) < 2 or positions != list(range(positions[0], positions[-1] + 1)):
            continue
        zipped = exp.Aliases(
            this=exp.Inline(
                this=exp.ArraysZip(expressions=[items[i].this.this.copy() for i in positions])
            ),
            expressions=[exp.to_identifier(items[i].alias) for i in positions],
        )
        select.set(
            "expressions", [*items[: positions[0]], zipped, *items[positions[-1] + 1 :]]
        )


def _first_by(order: Any) -> Any:
    """DuckDB's ``first(x order by k1 desc, k2)`` as Spark's ``min_by(x, struct(...))``: one key
    per ordering term, NULLs placed as the term asks (DuckDB: last by default), descending
    numeric keys negated."""
    from sqlglot import exp

    keys: list[exp.Expression] = []
    for term in order.expressions:
        value = term.this.copy()
        nulls_first = bool(term.args.get("nulls_first"))
        null_key = exp.Not(this=exp.Is(this=value.copy(), expression=exp.Null()))
        keys.append(null_key if nulls_first else exp.Is(this=value.copy(), expression=exp.Null()))
        keys.append(exp.Neg(this=exp.Paren(this=value)) if term.args.get("desc") else value)
    struct = exp.Anonymous(this="struct", expressions=keys)
    return exp.Anonymous(this="min_by", expressions=[order.this.copy(), struct])


def _install_translation() -> None:
    """Make dbt-spark's session cursor run DuckDB SQL through :func:`translate`."""
    from dbt.adapters.spark import session

    if getattr(session.Cursor.execute, "_leadscore", False):
        return
    original = session.Cursor.execute

    def execute(self: Any, sql: str, *parameters: Any) -> None:
        if parameters:
            sql = sql % parameters
        original(self, translate(sql))

    execute._leadscore = True  # type: ignore[attr-defined]
    session.Cursor.execute = execute  # type: ignore[method-assign]
    # dbt-spark's session method renders a seed's empty cell as the text 'None' and a quote
    # inside a value unescaped: a NULL is NULL, a text a Spark string literal
    original_binding = session.SessionConnectionWrapper._fix_binding

    def fix_binding(cls: Any, value: Any) -> str | float:
        if value is None:
            return "NULL"
        if isinstance(value, str):
            return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return original_binding(value)

    wrapper = session.SessionConnectionWrapper
    wrapper._fix_binding = classmethod(fix_binding)  # type: ignore[method-assign,assignment]


def export_tables(
    spark: Any,
    warehouse: Path,
    tables: Sequence[str] = ("lead_training_set", "lead_features"),
    schema: str | None = None,
) -> dict[str, int]:
    """Copy Spark marts into a DuckDB file (rows per table), e.g. for
    ``python python/train.py --warehouse FILE`` to train from the Spark training set."""
    import duckdb

    schema = schema or os.environ.get("LEADSCORE_SPARK_SCHEMA", "leadscore")
    counts: dict[str, int] = {}
    con = duckdb.connect(str(warehouse))
    try:
        for table in tables:
            data = spark.table(f"{schema}.{table}").toArrow()
            con.register("leadscore_export", data)
            con.execute(f"create or replace table {table} as select * from leadscore_export")
            con.unregister("leadscore_export")
            counts[table] = data.num_rows
    finally:
        con.close()
    return counts


# --- build -----------------------------------------------------------------------------------


def run_dbt(args: Sequence[str]) -> bool:
    """dbt in this process (so it shares the SparkSession); True when it succeeded."""
    from dbt.cli.main import dbtRunner

    _install_translation()
    project = project_dir()
    os.environ.setdefault("DBT_PROFILES_DIR", str(project))
    result = dbtRunner().invoke([*args, "--project-dir", str(project), "--target", "spark"])
    return bool(result.success)


def build(
    dbt_args: Sequence[str],
    *,
    master: str = DEFAULT_MASTER,
    data_dir: Path | None = None,
    home: Path | None = None,
    artifacts: Path | None = None,
) -> int:
    """Start Spark on `master`, register the functions, read the raw inputs, run dbt."""
    started = time.monotonic()
    data_dir = data_dir or Path(os.environ.get("LEADSCORE_DATA_DIR", "data/raw"))
    if not data_dir.is_absolute():
        data_dir = project_dir() / data_dir
    print(f"[spark] starting a session on {master}", flush=True)
    spark = spark_session(master, home)
    register_functions(spark, artifacts)
    counts = load_raw_inputs(spark, data_dir)
    print(f"[spark] raw inputs from {data_dir}: {counts}", flush=True)
    registry = load_registry(spark, artifacts)
    print(f"[spark] model registry: {registry['model_registry']} versions", flush=True)
    ok = run_dbt(dbt_args)
    print(f"[spark] dbt {'done' if ok else 'FAILED'} in {time.monotonic() - started:.1f}s")
    return 0 if ok else 1


def main(argv: Sequence[str]) -> int:
    """``leadscore build --target spark [--master URL] [--spark-home DIR] [dbt args...]``."""
    import argparse

    parser = argparse.ArgumentParser(prog="leadscore build --target spark", add_help=False)
    parser.add_argument("--master", default=DEFAULT_MASTER)
    parser.add_argument("--spark-home", type=Path, default=None)
    known, rest = parser.parse_known_args(list(argv))
    if not rest or rest[0].startswith("-"):
        rest = ["build", *rest]
    if rest[0] == "build" and "--exclude-resource-type" not in rest:
        rest = [*rest, "--exclude-resource-type", "unit_test"]
    return build(rest, master=known.master, home=known.spark_home)
