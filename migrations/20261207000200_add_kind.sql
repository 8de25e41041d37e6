-- SDK ABI 6.0's record field `kind`: what a check checked (http, tcp, tls, dns, icmp), as more
-- check plugins than http_check write to the same table. Rows of before, and records of older
-- producers, hold NULL, which means http.

-- migrate:up
ALTER TABLE metrics ADD COLUMN kind text;

-- migrate:down
ALTER TABLE metrics DROP COLUMN kind;
