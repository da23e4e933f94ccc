"""Proof before publish: the source database and Spark compute the same two
figures over a table, and the run publishes only when they agree.

  rows      the row count.
  checksum  the sum, over the rows, of the first 60 bits of the MD5 of the
            row's canonical text: the values of its checksum columns, each
            in a text form all three engines produce identically, NULL as
            the character 0x1E, joined by 0x1F.

On the source, the database computes each row's hash in the very statement
that reads the rows (so in the run's consistent read): PostgreSQL returns it
with each row for Spark to add up, MySQL/MariaDB sums it itself (window
aggregates).

The checksum columns are the columns whose types have such a form:
integers, decimals with a declared scale, text and varchar, date,
timestamp without time zone (PostgreSQL, MySQL DATETIME; as ISO text with the
fraction's trailing zeros dropped), PostgreSQL boolean and uuid. Floating point, time-zone-aware timestamps, binary, JSON (except
MariaDB's, which is text), CHAR and MySQL's tinyint(1) (a boolean in the
lake) are left out; the count still covers every row.
"""

NULL_MARK, SEPARATOR = 30, 31

# PostgreSQL information_schema data_type -> kind.
PG_KINDS = {
    "smallint": "int", "integer": "int", "bigint": "int",
    "numeric": "dec", "text": "text", "character varying": "text",
    "date": "date", "timestamp without time zone": "ts", "boolean": "bool", "uuid": "text",
}
MY_KINDS = {
    "tinyint": "int", "smallint": "int", "mediumint": "int", "int": "int", "bigint": "int",
    "decimal": "dec", "varchar": "text", "text": "text", "tinytext": "text", "mediumtext": "text",
    "longtext": "text", "date": "date", "datetime": "ts",
}


def kind(engine, data_type, column_type, scale):
    """The canonical kind of a source column, None when it has none."""
    if engine == "postgresql":
        k = PG_KINDS.get(data_type)
    else:
        k = MY_KINDS.get(data_type)
        if column_type.startswith("tinyint(1)") and "unsigned" not in column_type:
            return None  # a boolean in the lake
    if k == "dec" and scale is None:
        return None  # unconstrained numeric: the lake's scale differs
    return k


def source_text(engine, col_sql, k):
    """The canonical text of a column in the source's SQL."""
    if engine == "postgresql":
        form = {
            "int": "{c}::text", "dec": "{c}::text", "text": "{c}::text",
            # ISO text (the DateStyle pgjdbc sets): fractions without trailing zeros.
            "date": "{c}::text", "ts": "{c}::text",
            "bool": "CASE WHEN {c} THEN 'true' WHEN NOT {c} THEN 'false' END",
        }[k]
    else:
        form = {
            "int": "CAST({c} AS CHAR)", "dec": "CAST({c} AS CHAR)", "text": "{c}",
            # Zero dates are NULL in the lake (zeroDateTimeBehavior=CONVERT_TO_NULL).
            "date": "NULLIF(DATE_FORMAT({c}, '%Y-%m-%d'), '0000-00-00')",
            "ts": "NULLIF(TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM DATE_FORMAT({c}, '%Y-%m-%d %H:%i:%s.%f'))), "
                  "'0000-00-00 00:00:00')",
        }[k]
    return form.replace("{c}", col_sql)


def source_row_hash(engine, cols):
    """The SQL of one row's 60-bit hash; cols is [(col_sql, kind)]."""
    if engine == "postgresql":
        parts = ["coalesce(%s, chr(%d))" % (source_text(engine, c, k), NULL_MARK) for c, k in cols]
        text = "concat_ws(chr(%d), %s)" % (SEPARATOR, ", ".join(parts)) if parts else "''"
        return "('x' || substr(md5(%s), 1, 15))::bit(60)::bigint" % text
    parts = ["COALESCE(%s, CHAR(%d USING utf8mb4))" % (source_text(engine, c, k), NULL_MARK) for c, k in cols]
    text = "CONCAT_WS(CHAR(%d USING utf8mb4), %s)" % (SEPARATOR, ", ".join(parts)) if parts else "''"
    return "CAST(CONV(SUBSTR(MD5(%s), 1, 15), 16, 10) AS UNSIGNED)" % text


def source_window_sql(engine, cols, rows_col, sum_col):
    """The figures as window aggregates over one statement's rows (MySQL)."""
    h = source_row_hash(engine, cols)
    return "COUNT(*) OVER () AS %s, CAST(SUM(%s) OVER () AS CHAR) AS %s" % (rows_col, h, sum_col)


def spark_text(col, k):
    from pyspark.sql import functions as F
    # Casts, not date_format: Spark's text of a date or timestamp is the
    # canonical one (fractions without trailing zeros), and cheaper.
    return F.col("`%s`" % col.replace("`", "``")).cast("string")


def spark_hash(cols):
    """A row's 60-bit hash as a Spark column; cols is [(lake column, kind)]."""
    from pyspark.sql import functions as F
    parts = [F.coalesce(spark_text(c, k), F.lit(chr(NULL_MARK))) for c, k in cols]
    text = F.concat_ws(chr(SEPARATOR), *parts) if parts else F.lit("")
    return F.conv(F.substring(F.md5(text), 1, 15), 16, 10).cast("bigint")


def _sums(h):
    # The 60-bit hashes summed as two 30-bit halves: long sums that cannot
    # overflow below 2^33 rows, far cheaper than a decimal sum.
    from pyspark.sql import functions as F
    return [F.count(h).alias("n"), F.sum(F.shiftright(h, 30)).alias("hi"),
            F.sum(h.bitwiseAND(F.lit((1 << 30) - 1))).alias("lo")]


def _figures(row):
    return normalized(row["n"], (row["hi"] or 0) * (1 << 30) + (row["lo"] or 0))


def spark_figures(df, cols):
    """(rows, checksum) of a DataFrame."""
    return _figures(df.select(*_sums(spark_hash(cols))).collect()[0])


def spark_figures_where(df, cols, flag):
    """(all rows, (rows, checksum) of the rows where column flag is not
    NULL), in one pass; the hash is computed only for those rows."""
    from pyspark.sql import functions as F
    h = F.when(F.col(flag).isNotNull(), spark_hash(cols))
    row = df.select(F.count(F.lit(1)).alias("total"), *_sums(h)).collect()[0]
    return row["total"], _figures(row)


def normalized(rows, checksum):
    """Figures as the manifest keeps them: rows a number, checksum a decimal
    string ("0" for no rows)."""
    return int(rows or 0), str(checksum) if checksum not in (None, "") else "0"


class ProofError(Exception):
    """The staged table does not hold the source's rows."""


def check(table, source, lake, scope):
    """Raises ProofError naming the table and both figures on a mismatch."""
    if source != lake:
        raise ProofError(
            "proof failed for %s (%s): the source has %d rows, checksum %s; the staged lake table has %d rows, "
            "checksum %s. Nothing is published"
            % (table, scope, source[0], source[1], lake[0], lake[1]))
