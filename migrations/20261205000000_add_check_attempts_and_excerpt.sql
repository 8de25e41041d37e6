-- http_check's retries and opt-in failure excerpt (SDK ABI 3.0): how many attempts a check took,
-- and for a failed check, the first bytes of its body and its response headers. Nullable: rows
-- from older producers, and checks without body_excerpt, have none.

-- migrate:up
ALTER TABLE metrics
    ADD COLUMN attempts         integer,
    ADD COLUMN body_excerpt     text,
    ADD COLUMN response_headers text;

-- migrate:down
ALTER TABLE metrics
    DROP COLUMN response_headers,
    DROP COLUMN body_excerpt,
    DROP COLUMN attempts;
