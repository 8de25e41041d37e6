-- Rows PostgreSQL refused (a value out of range, a bad timestamp, a string with a NUL byte):
-- pg_sink's dead-letter table. `record` is the record as JSON text (not jsonb, which cannot
-- hold the \u0000 that made some of them fail).

-- migrate:up
CREATE TABLE metrics_rejected (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rejected_at timestamptz NOT NULL DEFAULT now(),
    check_id    text,
    origin      text,
    sqlstate    text NOT NULL,
    reason      text NOT NULL,
    record      text NOT NULL,
    CONSTRAINT metrics_rejected_check_id_key UNIQUE (check_id)
);

-- migrate:down
DROP TABLE metrics_rejected;
