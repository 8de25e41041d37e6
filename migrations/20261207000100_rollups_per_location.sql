-- Rollups per site, location and period, so the status page shows each location's uptime as it
-- shows the site's (the site's figures are the sums over its locations). Rows of before this
-- migration, and checks that name no location, are the location ''. vigil_roll_up_days() now
-- sums each (site, location) of a day.

-- migrate:up
ALTER TABLE metrics_hourly ADD COLUMN location text NOT NULL DEFAULT '';
ALTER TABLE metrics_hourly DROP CONSTRAINT metrics_hourly_pkey, ADD PRIMARY KEY (name, bucket, location);
ALTER TABLE metrics_daily ADD COLUMN location text NOT NULL DEFAULT '';
ALTER TABLE metrics_daily DROP CONSTRAINT metrics_daily_pkey, ADD PRIMARY KEY (name, bucket, location);

CREATE OR REPLACE FUNCTION vigil_roll_up_days(base text, since date) RETURNS SETOF date
LANGUAGE plpgsql AS $$
DECLARE
    d date;
BEGIN
    FOR d IN EXECUTE format('DELETE FROM %I RETURNING day', base || '_days_dirty') LOOP
        CONTINUE WHEN d < since;
        EXECUTE format('INSERT INTO %I AS t (name, bucket, location, checks, ok_checks, response_time_sum, '
                       'response_time_min, response_time_max, histogram) SELECT name, $1::timestamp AT TIME ZONE '
                       '''UTC'', location, sum(checks), sum(ok_checks), sum(response_time_sum), '
                       'min(response_time_min), max(response_time_max), vigil_hist_sum(histogram) FROM %I '
                       'WHERE bucket >= $1::timestamp AT TIME ZONE ''UTC'' '
                       'AND bucket < ($1 + 1)::timestamp AT TIME ZONE ''UTC'' GROUP BY name, location '
                       'ORDER BY name, location '
                       'ON CONFLICT (name, bucket, location) DO UPDATE SET checks = excluded.checks, '
                       'ok_checks = excluded.ok_checks, response_time_sum = excluded.response_time_sum, '
                       'response_time_min = excluded.response_time_min, '
                       'response_time_max = excluded.response_time_max, histogram = excluded.histogram',
                       base || '_daily', base || '_hourly') USING d;
        RETURN NEXT d;
    END LOOP;
END
$$;

-- migrate:down
-- Each (site, period)'s locations summed into one row again.
CREATE TEMPORARY TABLE vigil_hourly_sums ON COMMIT DROP AS
SELECT name, bucket, sum(checks)::integer AS checks, sum(ok_checks)::integer AS ok_checks,
       sum(response_time_sum) AS s, min(response_time_min) AS mi, max(response_time_max) AS ma,
       vigil_hist_sum(histogram) AS h
  FROM metrics_hourly GROUP BY name, bucket;
CREATE TEMPORARY TABLE vigil_daily_sums ON COMMIT DROP AS
SELECT name, bucket, sum(checks)::integer AS checks, sum(ok_checks)::integer AS ok_checks,
       sum(response_time_sum) AS s, min(response_time_min) AS mi, max(response_time_max) AS ma,
       vigil_hist_sum(histogram) AS h
  FROM metrics_daily GROUP BY name, bucket;
TRUNCATE metrics_hourly, metrics_daily;
ALTER TABLE metrics_hourly DROP CONSTRAINT metrics_hourly_pkey, DROP COLUMN location, ADD PRIMARY KEY (name, bucket);
ALTER TABLE metrics_daily DROP CONSTRAINT metrics_daily_pkey, DROP COLUMN location, ADD PRIMARY KEY (name, bucket);
INSERT INTO metrics_hourly SELECT name, bucket, checks, ok_checks, s, mi, ma, h FROM vigil_hourly_sums;
INSERT INTO metrics_daily SELECT name, bucket, checks, ok_checks, s, mi, ma, h FROM vigil_daily_sums;

CREATE OR REPLACE FUNCTION vigil_roll_up_days(base text, since date) RETURNS SETOF date
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
