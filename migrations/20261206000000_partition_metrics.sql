-- metrics partitioned by day (UTC), so that retention drops whole days instead of deleting
-- rows one by one: at 100,000 sites checked every minute the table grows by 144 million rows a
-- day. An existing table is converted: its rows are copied into the new one, ids kept.
--
-- A unique key of a partitioned table must hold the partition column, so check_id's becomes
-- (check_id, "timestamp"): a re-sent check keeps both, so it still deduplicates.
-- A row whose day has no partition yet goes to metrics_default instead of being refused;
-- vigil_day_partition() moves such rows when it creates their day's partition.
--
-- vigil_day_partition(table, day) and vigil_maintain_partitions(table, retention, ahead) do the
-- upkeep (pg_sink calls the latter at start and every hour); they work on any table of this
-- shape, and are plain SQL so that a cron job without pg_sink can call them too.

-- migrate:up
ALTER TABLE metrics RENAME TO metrics_unpartitioned;
ALTER INDEX metrics_pkey RENAME TO metrics_unpartitioned_pkey;
ALTER INDEX metrics_check_id_key RENAME TO metrics_unpartitioned_check_id_key;
ALTER INDEX metrics_name_timestamp_idx RENAME TO metrics_unpartitioned_name_timestamp_idx;
ALTER SEQUENCE metrics_id_seq RENAME TO metrics_unpartitioned_id_seq;

CREATE TABLE metrics (
    id               bigint GENERATED ALWAYS AS IDENTITY,
    name             text NOT NULL,
    url              text NOT NULL,
    response_time    double precision NOT NULL,
    status_code      integer,
    regex            text,
    regex_check      boolean,
    "timestamp"      timestamptz NOT NULL,
    check_id         text NOT NULL,
    agent            text,
    ok               boolean,
    error            text,
    error_detail     text,
    dns_ms           double precision,
    connect_ms       double precision,
    tls_ms           double precision,
    ttfb_ms          double precision,
    redirects        integer,
    body_bytes       bigint,
    truncated        boolean,
    http_version     text,
    remote_ip        text,
    tls_not_after    timestamptz,
    lag_ms           double precision,
    attempts         integer,
    body_excerpt     text,
    response_headers text,
    location         text,
    CONSTRAINT metrics_pkey PRIMARY KEY (id, "timestamp"),
    CONSTRAINT metrics_check_id_key UNIQUE (check_id, "timestamp")
) PARTITION BY RANGE ("timestamp");
CREATE INDEX metrics_name_timestamp_idx ON metrics (name, "timestamp");
CREATE TABLE metrics_default PARTITION OF metrics DEFAULT;

-- The partition of `day` for `parent`, created if missing: <parent>_pYYYYMMDD, from that day's
-- 00:00 UTC to the next. Rows of that day already in the default partition move into it
-- (PostgreSQL refuses to create a partition whose rows sit in the default one).
CREATE FUNCTION vigil_day_partition(parent regclass, day date) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    schema_name text;
    base text;
    part text;
    lo timestamptz := day::timestamp AT TIME ZONE 'UTC';
    hi timestamptz := (day + 1)::timestamp AT TIME ZONE 'UTC';
    default_part regclass;
    moved bigint := 0;
BEGIN
    SELECT n.nspname, c.relname INTO schema_name, base
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = parent;
    part := base || '_p' || to_char(day, 'YYYYMMDD');
    IF to_regclass(format('%I.%I', schema_name, part)) IS NOT NULL THEN
        RETURN part;
    END IF;
    -- One creator at a time per table; the loser finds the partition made.
    PERFORM pg_advisory_xact_lock(hashtext('vigil.partitions.' || parent::text));
    IF to_regclass(format('%I.%I', schema_name, part)) IS NOT NULL THEN
        RETURN part;
    END IF;
    SELECT i.inhrelid::regclass INTO default_part
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = parent AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT';
    IF default_part IS NOT NULL THEN
        EXECUTE format('CREATE TEMPORARY TABLE vigil_moving ON COMMIT DROP AS '
                       'WITH d AS (DELETE FROM %s WHERE "timestamp" >= $1 AND "timestamp" < $2 RETURNING *) '
                       'SELECT * FROM d', default_part) USING lo, hi;
        GET DIAGNOSTICS moved = ROW_COUNT;
    END IF;
    EXECUTE format('CREATE TABLE %I.%I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)',
                   schema_name, part, parent, lo, hi);
    IF default_part IS NOT NULL THEN
        IF moved > 0 THEN
            EXECUTE format('INSERT INTO %s OVERRIDING SYSTEM VALUE SELECT * FROM vigil_moving', parent);
        END IF;
        DROP TABLE vigil_moving;
    END IF;
    RETURN part;
END
$$;

-- Upkeep of `parent`: the partitions of yesterday, today and `ahead` days more exist, and with a
-- retention the partitions (named by vigil_day_partition) that end before now() - retention
-- are dropped, as are the default partition's rows that old. Returns what it did, one line each.
CREATE FUNCTION vigil_maintain_partitions(parent regclass, retention interval, ahead integer)
RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    today date := (now() AT TIME ZONE 'UTC')::date;
    cutoff timestamptz;
    base text;
    r record;
    n bigint;
BEGIN
    FOR d IN -1 .. ahead LOOP
        PERFORM vigil_day_partition(parent, today + d);
    END LOOP;
    IF retention IS NULL THEN
        RETURN;
    END IF;
    cutoff := now() - retention;
    SELECT c.relname INTO base FROM pg_class c WHERE c.oid = parent;
    FOR r IN
        SELECT c.oid::regclass AS part, c.relname,
               to_date(right(c.relname, 8), 'YYYYMMDD') AS day,
               pg_get_expr(c.relpartbound, c.oid) AS bound
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = parent AND c.relname ~ ('^' || base || '_p[0-9]{8}$')
    LOOP
        IF r.bound = 'DEFAULT' THEN
            CONTINUE;
        END IF;
        IF ((r.day + 1)::timestamp AT TIME ZONE 'UTC') <= cutoff THEN
            EXECUTE format('DROP TABLE %s', r.part);
            RETURN NEXT 'dropped ' || r.relname;
        END IF;
    END LOOP;
    FOR r IN
        SELECT i.inhrelid::regclass AS part
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = parent AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT'
    LOOP
        EXECUTE format('DELETE FROM %s WHERE "timestamp" < $1', r.part) USING cutoff;
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n > 0 THEN
            RETURN NEXT format('deleted %s rows older than %s from %s', n, cutoff, r.part);
        END IF;
    END LOOP;
END
$$;

-- The existing rows: a partition for each of their days, then the copy, ids kept.
SELECT vigil_day_partition('metrics', d)
  FROM (SELECT DISTINCT ("timestamp" AT TIME ZONE 'UTC')::date AS d FROM metrics_unpartitioned) days;
SELECT vigil_maintain_partitions('metrics', NULL, 2);
INSERT INTO metrics OVERRIDING SYSTEM VALUE SELECT * FROM metrics_unpartitioned;
SELECT setval(pg_get_serial_sequence('metrics', 'id'), greatest((SELECT max(id) FROM metrics), 1),
              (SELECT max(id) FROM metrics) IS NOT NULL);
DROP TABLE metrics_unpartitioned;

-- migrate:down
CREATE TABLE metrics_unpartitioned (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name             text NOT NULL,
    url              text NOT NULL,
    response_time    double precision NOT NULL,
    status_code      integer,
    regex            text,
    regex_check      boolean,
    "timestamp"      timestamptz NOT NULL,
    check_id         text NOT NULL,
    agent            text,
    ok               boolean,
    error            text,
    error_detail     text,
    dns_ms           double precision,
    connect_ms       double precision,
    tls_ms           double precision,
    ttfb_ms          double precision,
    redirects        integer,
    body_bytes       bigint,
    truncated        boolean,
    http_version     text,
    remote_ip        text,
    tls_not_after    timestamptz,
    lag_ms           double precision,
    attempts         integer,
    body_excerpt     text,
    response_headers text,
    location         text
);
-- A check re-sent on another day is two rows here; the unpartitioned table keeps the first.
INSERT INTO metrics_unpartitioned OVERRIDING SYSTEM VALUE
SELECT DISTINCT ON (check_id) * FROM metrics ORDER BY check_id, id;
SELECT setval(pg_get_serial_sequence('metrics_unpartitioned', 'id'),
              greatest((SELECT max(id) FROM metrics_unpartitioned), 1),
              (SELECT max(id) FROM metrics_unpartitioned) IS NOT NULL);
DROP TABLE metrics;
DROP FUNCTION vigil_maintain_partitions(regclass, interval, integer);
DROP FUNCTION vigil_day_partition(regclass, date);
ALTER TABLE metrics_unpartitioned RENAME TO metrics;
ALTER INDEX metrics_unpartitioned_pkey RENAME TO metrics_pkey;
ALTER SEQUENCE metrics_unpartitioned_id_seq RENAME TO metrics_id_seq;
ALTER TABLE metrics ADD CONSTRAINT metrics_check_id_key UNIQUE (check_id);
CREATE INDEX metrics_name_timestamp_idx ON metrics (name, "timestamp");
