from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest
from pyspark.sql import types as T

from ledgerlake_glue.schema import (
    SchemaChangeRefused,
    flatten_spark_schema,
    model_schema,
    prepare_tables,
    property_statement,
    schema_changes,
    table_properties,
)

CASES = json.loads(
    (pathlib.Path(__file__).resolve().parents[2] / "test" / "fixtures" / "schema-changes.json").read_text()
)["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_the_same_changes_are_supported_and_refused_as_in_the_local_engine(case: dict[str, Any]) -> None:
    before = {path: (t, r) for path, (t, r) in case["before"].items()}
    after = {path: (t, r) for path, (t, r) in case["after"].items()}
    if "refused" not in case:
        assert [c.as_dict() for c in schema_changes("t", before, after)] == case["changes"]
        return
    with pytest.raises(SchemaChangeRefused) as refused:
        schema_changes("t", before, after)
    for text in case["refused"]:
        assert text in str(refused.value)


def test_flattens_a_spark_schema_to_iceberg_types_by_path() -> None:
    schema = T.StructType(
        [
            T.StructField("_id", T.StringType(), False),
            T.StructField(
                "lines",
                T.ArrayType(T.StructType([T.StructField("debit", T.DecimalType(18, 4))]), True),
            ),
            T.StructField("n", T.LongType()),
            T.StructField("at", T.TimestampType()),
        ]
    )
    assert flatten_spark_schema(schema) == {
        "_id": ("string", True),
        "lines": ("list", False),
        "lines.element": ("struct", False),
        "lines.element.debit": ("decimal(18, 4)", False),
        "n": ("long", False),
        "at": ("timestamptz", False),
    }


def field(path: str, type_: str, ddl: str, after: str | None, required: bool = False) -> dict[str, Any]:
    return {
        "path": path,
        "type": type_,
        "required": required,
        "ddl": ddl,
        "comment": f"{path}'s doc",
        "after": after,
    }


PREVIOUS = {
    "name": "entries",
    "location": "raw/app/entries",
    "write_order": None,
    "create": "CREATE TABLE IF NOT EXISTS {table} "
    "(id string NOT NULL, n int, lines array<struct<account string, debit decimal(10,2)>>) USING iceberg "
    "TBLPROPERTIES ('format-version' = '2')",
    "properties": {"format-version": "2", "write.target-file-size-bytes": "536870912"},
    "fields": [
        field("id", "string", "string", None, required=True),
        field("n", "int", "int", "id"),
        field("lines", "list", "array<struct<account:string,debit:decimal(10,2)>>", "n"),
        field("lines.element", "struct", "struct<account:string,debit:decimal(10,2)>", None),
        field("lines.element.account", "string", "string", None),
        field("lines.element.debit", "decimal(10, 2)", "decimal(10,2)", "account"),
    ],
}
NEXT = {
    **PREVIOUS,
    "properties": {**PREVIOUS["properties"], "write.merge.mode": "merge-on-read"},
    "fields": [
        field("id", "string", "string", None),
        field("currency", "string", "string", "id"),
        field("n", "long", "bigint", "currency"),
        field("lines", "list", "array<struct<account:string,memo:string,debit:decimal(12,2)>>", "n"),
        field("lines.element", "struct", "struct<account:string,memo:string,debit:decimal(12,2)>", None),
        field("lines.element.account", "string", "string", None),
        field("lines.element.memo", "string", "string", "account"),
        field("lines.element.debit", "decimal(12, 2)", "decimal(12,2)", "memo"),
    ],
}


def test_evolves_a_table_in_place_keeping_its_field_ids_and_rows(spark: Any, namespace: str) -> None:
    table = f"{namespace}.entries"
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {namespace}")
    prepare_tables(spark, "test", {table: PREVIOUS}, "")
    spark.sql(f"INSERT INTO {table} VALUES ('a', 1, array(named_struct('account', '1000', 'debit', 12.5)))")
    ids_before = field_ids(spark, table)
    assert table_properties(spark, table).get("write.merge.mode") is None
    prepare_tables(spark, "test", {table: NEXT}, "")
    assert flatten_spark_schema(spark.table(table).schema) == model_schema(NEXT)
    properties = table_properties(spark, table)
    assert (properties["write.merge.mode"], properties["write.target-file-size-bytes"]) == (
        "merge-on-read",
        "536870912",
    ), "the model's properties are set on the existing table"
    assert [f.name for f in spark.table(table).schema.fields] == ["id", "currency", "n", "lines"]
    ids_after = field_ids(spark, table)
    assert {path: ids_after[path] for path in ids_before} == ids_before
    assert min(ids_after[p] for p in ("currency", "lines.element.memo")) > max(ids_before.values())
    spark.sql(
        f"INSERT INTO {table} VALUES ('b', 'EUR', 1099511627776, "
        "array(named_struct('account', '2000', 'memo', 'June', 'debit', 1234567890.12)))"
    )
    rows = [r.asDict(recursive=True) for r in spark.sql(f"SELECT * FROM {table} ORDER BY id").collect()]
    assert [(r["id"], r["currency"], r["n"]) for r in rows] == [("a", None, 1), ("b", "EUR", 1099511627776)]
    assert [[(line["memo"], str(line["debit"])) for line in r["lines"]] for r in rows] == [
        [(None, "12.50")],
        [("June", "1234567890.12")],
    ]
    version = metadata_dir(spark, table).joinpath("version-hint.text").read_text()
    prepare_tables(spark, "test", {table: NEXT}, "")
    assert metadata_dir(spark, table).joinpath("version-hint.text").read_text() == version, (
        "a table that matches the model is not altered"
    )


def test_refuses_for_every_table_before_altering_any(spark: Any, namespace: str) -> None:
    first, second = f"{namespace}.first", f"{namespace}.second"
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {namespace}")
    prepare_tables(spark, "test", {first: PREVIOUS, second: PREVIOUS}, "")
    narrowed = {**NEXT, "fields": [f for f in NEXT["fields"] if f["path"] != "n"]}
    with pytest.raises(SchemaChangeRefused) as refused:
        prepare_tables(spark, "test", {first: NEXT, second: narrowed}, "")
    assert "column 'n' (int) is in the table but no longer in the model" in str(refused.value)
    assert "currency" not in [f.name for f in spark.table(first).schema.fields], (
        "the first table was not altered"
    )


def field_ids(spark: Any, table: str) -> dict[str, int]:
    """The Iceberg field ids of the table's current schema by path (from its metadata file)."""
    folder = metadata_dir(spark, table)
    hint = (folder / "version-hint.text").read_text().strip()
    metadata = json.loads((folder / f"v{hint}.metadata.json").read_text())
    schema = next(s for s in metadata["schemas"] if s["schema-id"] == metadata["current-schema-id"])
    ids: dict[str, int] = {}

    def visit(type_: Any, path: str) -> None:
        if isinstance(type_, dict) and type_["type"] == "list":
            ids[path + ".element"] = type_["element-id"]
            visit(type_["element"], path + ".element")
        elif isinstance(type_, dict) and type_["type"] == "struct":
            for f in type_["fields"]:
                ids[f"{path}.{f['name']}"] = f["id"]
                visit(f["type"], f"{path}.{f['name']}")

    for f in schema["fields"]:
        ids[f["name"]] = f["id"]
        visit(f["type"], f["name"])
    return ids


def metadata_dir(spark: Any, table: str) -> pathlib.Path:
    """The metadata folder of a table in the session's Hadoop catalog."""
    location = (
        spark.sql(f"DESCRIBE TABLE EXTENDED {table}").where("col_name = 'Location'").first()["data_type"]
    )
    return pathlib.Path(location.replace("file:", "")) / "metadata"


def test_sets_only_the_model_properties_a_table_lacks_or_holds_otherwise() -> None:
    model = {"format-version": "2", "write.merge.mode": "merge-on-read", "write.update.mode": "merge-on-read"}
    current = {"format-version": "1", "write.update.mode": "merge-on-read", "owner": "glue"}
    assert property_statement("db.t", current, model) == (
        "ALTER TABLE db.t SET TBLPROPERTIES ('write.merge.mode' = 'merge-on-read')"
    ), "format-version is the table's to upgrade, not the jobs'; other properties are left alone"
    assert property_statement("db.t", {**current, **model}, model) is None
