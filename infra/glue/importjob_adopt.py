"""The adopt step of the import job: a Parquet table the Lake Formation
blueprint wrote under a name this job imports into is converted in place to
Iceberg before the import (see the section comment below)."""

import json

from pyspark.sql import functions as F

from importjob_lake import CATALOG, iceberg_table, table_properties
from importjob_source import ImportError_

# ---------------------------------------------------------------- adopt
#
# A table the Lake Formation blueprint wrote (Parquet, catalogued by its
# crawler) under a name this job imports into. Iceberg's Glue catalog
# neither loads nor replaces such a table ("Input Glue table is not an
# iceberg table"), and Glue cannot rename one. `lakeforge adopt --apply`
# marks it (table parameter lakeforge:convert=requested); this job then
# converts it in place before it imports:
#   1. copies its rows, column names mapped, into a new Iceberg table
#      written next to lakeforge's tables (an Iceberg Hadoop catalog on the
#      same warehouse path, so no catalog entry exists yet);
#   2. checks that the copy has every row;
#   3. points the existing Glue table at the copy with one glue:UpdateTable
#      (same name; Glue archives the Parquet definition as a table
#      version), which is how Iceberg's own Glue catalog commits to an
#      existing table: Lake Formation grants and LF-tags on the table stay.
# A failure before step 3 leaves the Parquet table as it was and removes
# the copy. The Parquet files are never touched.

CONVERT_PARAM = "lakeforge:convert"
CONVERT_REQUESTED = "requested"
CONVERTED_FROM_PARAM = "lakeforge:converted-from"
ADOPT_CATALOG = "lakeforge_adopt"
# The characters the Spark Parquet writer rejects in column names (the Lake
# Formation blueprint documentation's note); the blueprint writes "_" in
# their place, so a Parquet column equal to a source column with each of
# them replaced by "_" is that source column.
PARQUET_REJECTS = " ,;{}()\n\t="


def mangled(name):
    return "".join("_" if ch in PARQUET_REJECTS else ch for ch in name)


def column_mapping(parquet_columns, source_columns):
    """{parquet column: source column} for the columns the blueprint renamed."""
    exact = {c.lower() for c in source_columns}
    out = {}
    for p in parquet_columns:
        if p.lower() in exact:
            continue
        found = [s for s in source_columns if mangled(s).lower() == p.lower()]
        if len(found) == 1:
            out[p] = found[0]
        elif len(found) > 1:
            raise ImportError_("Parquet column %s stands for several source columns (%s): rename them in the source"
                               % (p, ", ".join(found)))
    return out


def table_format(table):
    params = {k.lower(): v for k, v in (table.get("Parameters") or {}).items()}
    if params.get("table_type", "").upper() == "ICEBERG":
        return "iceberg"
    sd = table.get("StorageDescriptor") or {}
    serde = ((sd.get("SerdeInfo") or {}).get("SerializationLibrary") or "").lower()
    if params.get("classification", "").lower() == "parquet" or "parquet" in (sd.get("InputFormat") or "").lower() or "parquet" in serde:
        return "parquet"
    return params.get("classification", "unknown").lower()


def hive_type(data_type):
    return data_type.simpleString()


def tables_to_adopt(catalog, entries, args):
    """The entries whose Glue table exists and is not Iceberg, checked
    before anything changes: all of them must be marked Parquet tables."""
    found, problems = [], []
    db = args["lake_database"]
    for e in entries:
        name = args["table_prefix"] + e["name"]
        table = catalog.get(db, name)
        if table is None or table_format(table) == "iceberg":
            continue
        fmt = table_format(table)
        if (table.get("Parameters") or {}).get(CONVERT_PARAM) != CONVERT_REQUESTED:
            problems.append("%s.%s is a %s table lakeforge did not make (the blueprint's?): run `lakeforge adopt`, then "
                            "`lakeforge adopt --apply`, which marks it for conversion to Iceberg in place (docs/migration.md)"
                            % (db, name, fmt))
        elif fmt != "parquet":
            problems.append("%s.%s is a %s table: only Parquet tables are converted; rename or drop it (docs/migration.md)"
                            % (db, name, fmt))
        else:
            found.append((e, table))
    if problems:
        raise ImportError_("nothing imported: " + "; ".join(problems))
    return found


def conform(df, mapping, source_schema, where):
    """The Parquet rows under the source's column names and the types the
    import writes, so the next import continues the same columns. A value
    the cast would change (NULL because it does not fit, or rounded) is an
    error: it is read back through the source type and compared."""
    from pyspark.sql import functions as F
    for old, new in mapping.items():
        df = df.withColumnRenamed(old, new)
    types = {f.name.lower(): f.dataType for f in source_schema.fields}
    casts = [c for c in df.columns if c.lower() in types and df.schema[c].dataType != types[c.lower()]]
    if not casts:
        return df
    q = lambda c: F.col("`%s`" % c.replace("`", "``"))  # noqa: E731
    changed = df.select([F.sum(F.when(~q(c).eqNullSafe(q(c).cast(types[c.lower()]).cast(df.schema[c].dataType)), 1).otherwise(0)).alias(c)
                         for c in casts]).collect()[0]
    lost = ["%s (%s -> %s: %d values do not fit)" % (c, df.schema[c].dataType.simpleString(), types[c.lower()].simpleString(), changed[i])
            for i, c in enumerate(casts) if changed[i]]
    if lost:
        raise ImportError_("%s: the Parquet values of %s do not fit the source's types; nothing converted"
                           % (where, ", ".join(lost)))
    for c in casts:
        df = df.withColumn(c, q(c).cast(types[c.lower()]))
    return df


def convert_table(spark, runtime, catalog, entry, table, source_schema, args):
    """Converts one marked Parquet table in place (see the section comment)."""
    db, name = args["lake_database"], table["Name"]
    parquet_uri = table["StorageDescriptor"]["Location"]
    warehouse = spark.conf.get("spark.sql.catalog.%s.warehouse" % CATALOG)
    for k, v in (("", "org.apache.iceberg.spark.SparkCatalog"), (".type", "hadoop"), (".warehouse", warehouse)):
        spark.conf.set("spark.sql.catalog.%s%s" % (ADOPT_CATALOG, k), v)
    ident = "%s.`%s`.`%s`" % (ADOPT_CATALOG, db, name)
    if spark.catalog.tableExists("%s.%s.%s" % (ADOPT_CATALOG, db, name)):
        raise ImportError_("%s.%s: an Iceberg table already exists where the conversion writes (%s/%s/%s): "
                           "move it away, then run again" % (db, name, warehouse.rstrip("/"), db, name))
    try:
        df = spark.read.parquet(runtime.storage_uri(parquet_uri))
        rows = df.count()
        mapping = column_mapping(df.columns, [f.name for f in source_schema.fields])
        df = conform(df, mapping, source_schema, "%s.%s" % (db, name))
        w = df.writeTo(ident).using("iceberg")
        for k, v in table_properties(args).items():
            w = w.tableProperty(k, v)
        w.create()
        copied = spark.table(ident).count()
        if copied != rows:
            raise ImportError_("%s.%s: the Iceberg copy has %d rows, the Parquet table %d" % (db, name, copied, rows))
        ice = iceberg_table(spark, ident)
        metadata = str(ice.operations().current().metadataFileLocation())
        location = str(ice.location())
        columns = [{"Name": f.name, "Type": hive_type(f.dataType)} for f in spark.table(ident).schema.fields]
        params = {"table_type": "ICEBERG", "metadata_location": runtime.catalog_uri(metadata), CONVERTED_FROM_PARAM: "parquet"}
        table_input = {"Name": name, "TableType": "EXTERNAL_TABLE", "Parameters": params,
                       "StorageDescriptor": {"Location": runtime.catalog_uri(location), "Columns": columns}}
        for k in ("Description", "Owner", "Retention"):
            if table.get(k) is not None:
                table_input[k] = table[k]
        catalog.update(db, table_input, table.get("VersionId"))
    except Exception:
        # The Parquet table is as it was; the copy goes.
        try:
            spark.sql("DROP TABLE IF EXISTS %s PURGE" % ident)
        except Exception:
            pass
        raise
    print("converted %s.%s in place: Parquet (%s, %d rows) -> Iceberg (%s), columns renamed: %s"
          % (db, name, parquet_uri, rows, runtime.catalog_uri(location), json.dumps(mapping) if mapping else "none"))
    return {"table": name, "from": "parquet", "parquetLocation": parquet_uri, "rows": rows, "columns": mapping}


def adopt_tables(spark, runtime, source, entries, args):
    """Converts the marked Parquet tables among the entries; [] without a
    catalog (the local tests that have no Glue catalog)."""
    catalog = getattr(runtime, "catalog", None)
    if catalog is None:
        return []
    done = []
    for e, table in tables_to_adopt(catalog, entries, args):
        schema = source.read(e["tableSql"], ["1 = 0"], e["customSchema"]).schema
        done.append(convert_table(spark, runtime, catalog, e, table, schema, args))
    return done


class GlueTables:
    """glue:GetTable and glue:UpdateTable through boto3 (the adopt step)."""

    def __init__(self, client):
        self.glue = client

    def get(self, db, name):
        try:
            return self.glue.get_table(DatabaseName=db, Name=name)["Table"]
        except self.glue.exceptions.EntityNotFoundException:
            return None

    def update(self, db, table_input, version_id):
        kw = {"DatabaseName": db, "TableInput": table_input}
        if version_id:
            kw["VersionId"] = version_id  # Glue's optimistic lock
        self.glue.update_table(**kw)
