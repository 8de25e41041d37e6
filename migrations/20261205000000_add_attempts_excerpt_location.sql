-- SDK ABI 3.0's record fields: how many attempts a check took (http_check's retries); for a failed
-- check, the first bytes of its body and its response headers (body_excerpt); and where it ran
-- from (location). Nullable: rows from older producers, and checks without body_excerpt, have none.

-- migrate:up
ALTER TABLE metrics
    ADD COLUMN attempts         integer,
    ADD COLUMN body_excerpt     text,
    ADD COLUMN response_headers text,
    ADD COLUMN location         text;

-- migrate:down
ALTER TABLE metrics
    DROP COLUMN location,
    DROP COLUMN response_headers,
    DROP COLUMN body_excerpt,
    DROP COLUMN attempts;
