-- SDK ABI 6.0's record field `kind`: what a check checked (http, tcp, tls, dns, icmp), as more
-- check plugins than http_check write to the same table. Rows of before, and records of older
-- producers, hold NULL, which means http. pg_sink's `state:` keeps the latest check's kind with
-- the site, where the status page shows it.

-- migrate:up
ALTER TABLE metrics ADD COLUMN kind text;
ALTER TABLE site_state ADD COLUMN kind text;

-- migrate:down
ALTER TABLE site_state DROP COLUMN kind;
ALTER TABLE metrics DROP COLUMN kind;
