-- SDK ABI 7.0's record fields for dns_check: the answer's response code and its records of the
-- asked type (presentation form, one per line, sorted). Other kinds, and older rows, hold NULL.

-- migrate:up
ALTER TABLE metrics ADD COLUMN rcode text;
ALTER TABLE metrics ADD COLUMN answers text;

-- migrate:down
ALTER TABLE metrics DROP COLUMN answers;
ALTER TABLE metrics DROP COLUMN rcode;
