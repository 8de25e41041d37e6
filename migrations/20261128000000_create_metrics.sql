-- The check results: one row per check, one column per field of the record (DESIGN.md).
-- The first seven columns are the original project's; check_id makes inserts idempotent.

-- migrate:up
CREATE TABLE metrics (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL,
    url           text NOT NULL,
    response_time double precision NOT NULL,
    status_code   integer,
    regex         text,
    regex_check   boolean,
    "timestamp"   timestamptz NOT NULL,
    check_id      text NOT NULL,
    agent         text,
    ok            boolean,
    error         text,
    error_detail  text,
    dns_ms        double precision,
    connect_ms    double precision,
    tls_ms        double precision,
    ttfb_ms       double precision,
    redirects     integer,
    body_bytes    bigint,
    truncated     boolean,
    http_version  text,
    remote_ip     text,
    tls_not_after timestamptz,
    lag_ms        double precision,
    CONSTRAINT metrics_check_id_key UNIQUE (check_id)
);
CREATE INDEX metrics_name_timestamp_idx ON metrics (name, "timestamp");

-- migrate:down
DROP TABLE metrics;
