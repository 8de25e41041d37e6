-- Rollups of metrics that the status page reads instead of the rows: per site and hour, and per
-- site and day (UTC). pg_sink (`rollups:`) adds to the hourly ones in the transaction that
-- inserts the rows, from the rows that transaction inserted and no other, so a redelivered check
-- changes nothing (exactly once by construction, as site_state is kept), and marks their days in
-- metrics_days_dirty. The daily ones are the sums of the hourly ones, recomputed for the marked
-- days by vigil_roll_up_days() (pg_sink's upkeep, every 5 minutes): a recomputation, so running
-- it twice changes nothing, and the rows' transaction pays one upsert per site, not two.
--
-- histogram: 48 counts of response times on a log scale, three buckets per doubling: bucket i
-- (from 0) holds [2^(i/3), 2^((i+1)/3)) ms, bucket 0 everything below 2^(1/3) ms and the last
-- everything from 2^(47/3) ms (52 s) up. vigil_hist_quantile() reads p50/p95 from it (within
-- 13%, half a bucket's width).

-- migrate:up
CREATE TABLE metrics_hourly (
    name              text NOT NULL,
    bucket            timestamptz NOT NULL,      -- the hour's start
    checks            integer NOT NULL,
    ok_checks         integer NOT NULL,
    response_time_sum double precision NOT NULL,
    response_time_min double precision NOT NULL,
    response_time_max double precision NOT NULL,
    histogram         integer[] NOT NULL CHECK (cardinality(histogram) = 48),
    PRIMARY KEY (name, bucket)
) WITH (fillfactor = 70);
-- fillfactor: an hour's row is updated by every chunk that holds one of its checks; the room
-- left keeps those updates HOT (no new index entry).

CREATE TABLE metrics_daily (LIKE metrics_hourly INCLUDING ALL) WITH (fillfactor = 70);
COMMENT ON COLUMN metrics_daily.bucket IS 'the day''s start (00:00 UTC)';

-- The days whose hourly rollups changed since their daily ones were last computed.
CREATE TABLE metrics_days_dirty (
    day date PRIMARY KEY
);

-- Bucket by bucket sum of two histograms. One SELECT of one expression: the planner inlines it
-- into the ON CONFLICT of pg_sink's upsert, so merging costs no function call.
CREATE FUNCTION vigil_hist_add(a integer[], b integer[]) RETURNS integer[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ARRAY[
        a[1] + b[1], a[2] + b[2], a[3] + b[3], a[4] + b[4], a[5] + b[5], a[6] + b[6],
        a[7] + b[7], a[8] + b[8], a[9] + b[9], a[10] + b[10], a[11] + b[11], a[12] + b[12],
        a[13] + b[13], a[14] + b[14], a[15] + b[15], a[16] + b[16], a[17] + b[17], a[18] + b[18],
        a[19] + b[19], a[20] + b[20], a[21] + b[21], a[22] + b[22], a[23] + b[23], a[24] + b[24],
        a[25] + b[25], a[26] + b[26], a[27] + b[27], a[28] + b[28], a[29] + b[29], a[30] + b[30],
        a[31] + b[31], a[32] + b[32], a[33] + b[33], a[34] + b[34], a[35] + b[35], a[36] + b[36],
        a[37] + b[37], a[38] + b[38], a[39] + b[39], a[40] + b[40], a[41] + b[41], a[42] + b[42],
        a[43] + b[43], a[44] + b[44], a[45] + b[45], a[46] + b[46], a[47] + b[47], a[48] + b[48]]
$$;

CREATE AGGREGATE vigil_hist_sum(integer[]) (
    SFUNC = vigil_hist_add,
    STYPE = integer[],
    INITCOND = '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}'
);

-- The q-quantile (0..1) of a histogram in ms, interpolated geometrically inside its bucket;
-- NULL for an empty one.
CREATE FUNCTION vigil_hist_quantile(h integer[], q double precision) RETURNS double precision
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    total bigint := 0;
    seen bigint := 0;
    target double precision;
    i integer;
    lo double precision;
BEGIN
    IF h IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT coalesce(sum(x), 0) INTO total FROM unnest(h) x;
    IF total = 0 THEN
        RETURN NULL;
    END IF;
    target := q * total;
    FOR i IN 1 .. cardinality(h) LOOP
        IF h[i] > 0 AND seen + h[i] >= target THEN
            IF i = cardinality(h) THEN
                RETURN power(2, (i - 1) / 3.0);
            END IF;
            lo := CASE WHEN i = 1 THEN 0.5 ELSE power(2, (i - 1) / 3.0) END;
            RETURN lo * power(power(2, i / 3.0) / lo, greatest(target - seen, 0) / h[i]);
        END IF;
        seen := seen + h[i];
    END LOOP;
    RETURN power(2, (cardinality(h) - 1) / 3.0);
END
$$;

-- The rows already stored, summed as pg_sink sums new ones (rollups.cpp: a good check is `ok`,
-- or without one a 2xx/3xx status).
INSERT INTO metrics_hourly
SELECT name, bucket, sum(n), sum(o), sum(s), min(mi), max(ma),
       vigil_hist_sum(array_fill(0, ARRAY[k]) || n::integer || array_fill(0, ARRAY[47 - k]))
  FROM (SELECT name, date_trunc('hour', "timestamp", 'UTC') AS bucket,
               least(greatest(floor(3 * ln(greatest(response_time, 1)) / ln(2)), 0), 47)::integer AS k,
               count(*) AS n,
               count(*) FILTER (WHERE coalesce(ok, status_code BETWEEN 200 AND 399, false)) AS o,
               sum(response_time) AS s, min(response_time) AS mi, max(response_time) AS ma
          FROM metrics GROUP BY 1, 2, 3) per_bucket
 GROUP BY name, bucket;
INSERT INTO metrics_daily
SELECT name, date_trunc('day', bucket, 'UTC'), sum(checks), sum(ok_checks), sum(response_time_sum),
       min(response_time_min), max(response_time_max), vigil_hist_sum(histogram)
  FROM metrics_hourly GROUP BY 1, 2;

-- Recomputes the daily rollups of `base` (<base>_daily from <base>_hourly) for the days marked in
-- <base>_days_dirty from `since` on, and unmarks them; returns the days done. A day marked again
-- meanwhile (rows inserted while this runs) waits for this transaction, stays marked and is done
-- next time. Days before `since` (pg_sink: older than the hourly retention, whose hourly rows are
-- partly gone) are unmarked and left as they are: recomputing them would lose what was deleted.
CREATE FUNCTION vigil_roll_up_days(base text, since date) RETURNS SETOF date
LANGUAGE plpgsql AS $$
DECLARE
    d date;
BEGIN
    FOR d IN EXECUTE format('DELETE FROM %I RETURNING day', base || '_days_dirty') LOOP
        CONTINUE WHEN d < since;
        EXECUTE format('INSERT INTO %I AS t SELECT name, $1::timestamp AT TIME ZONE ''UTC'', sum(checks), '
                       'sum(ok_checks), sum(response_time_sum), min(response_time_min), max(response_time_max), '
                       'vigil_hist_sum(histogram) FROM %I WHERE bucket >= $1::timestamp AT TIME ZONE ''UTC'' '
                       'AND bucket < ($1 + 1)::timestamp AT TIME ZONE ''UTC'' GROUP BY name ORDER BY name '
                       'ON CONFLICT (name, bucket) DO UPDATE SET checks = excluded.checks, '
                       'ok_checks = excluded.ok_checks, response_time_sum = excluded.response_time_sum, '
                       'response_time_min = excluded.response_time_min, '
                       'response_time_max = excluded.response_time_max, histogram = excluded.histogram',
                       base || '_daily', base || '_hourly') USING d;
        RETURN NEXT d;
    END LOOP;
END
$$;

-- migrate:down
DROP FUNCTION vigil_roll_up_days(text, date);
DROP TABLE metrics_days_dirty;
DROP FUNCTION vigil_hist_quantile(integer[], double precision);
DROP AGGREGATE vigil_hist_sum(integer[]);
DROP FUNCTION vigil_hist_add(integer[], integer[]);
DROP TABLE metrics_daily;
DROP TABLE metrics_hourly;
