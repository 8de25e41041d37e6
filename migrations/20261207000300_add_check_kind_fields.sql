-- SDK ABI 7.0's record fields for dns_check, icmp_check and tls_check. DNS: the answer's response
-- code and its records of the asked type (presentation form, one per line, sorted). ICMP: echo
-- requests sent and replies received, the loss in percent, and the round-trip times' minimum,
-- mean, maximum and standard deviation in milliseconds. TLS: the session's version and cipher,
-- the certificate's issuer and a stapled OCSP answer's status. Other kinds, and older rows, hold
-- NULL.

-- migrate:up
ALTER TABLE metrics ADD COLUMN rcode text;
ALTER TABLE metrics ADD COLUMN answers text;
ALTER TABLE metrics ADD COLUMN packets_sent integer;
ALTER TABLE metrics ADD COLUMN packets_received integer;
ALTER TABLE metrics ADD COLUMN packet_loss double precision;
ALTER TABLE metrics ADD COLUMN rtt_min_ms double precision;
ALTER TABLE metrics ADD COLUMN rtt_avg_ms double precision;
ALTER TABLE metrics ADD COLUMN rtt_max_ms double precision;
ALTER TABLE metrics ADD COLUMN rtt_stddev_ms double precision;
ALTER TABLE metrics ADD COLUMN tls_version text;
ALTER TABLE metrics ADD COLUMN tls_cipher text;
ALTER TABLE metrics ADD COLUMN tls_issuer text;
ALTER TABLE metrics ADD COLUMN ocsp_status text;

-- migrate:down
ALTER TABLE metrics DROP COLUMN ocsp_status;
ALTER TABLE metrics DROP COLUMN tls_issuer;
ALTER TABLE metrics DROP COLUMN tls_cipher;
ALTER TABLE metrics DROP COLUMN tls_version;
ALTER TABLE metrics DROP COLUMN rtt_stddev_ms;
ALTER TABLE metrics DROP COLUMN rtt_max_ms;
ALTER TABLE metrics DROP COLUMN rtt_avg_ms;
ALTER TABLE metrics DROP COLUMN rtt_min_ms;
ALTER TABLE metrics DROP COLUMN packet_loss;
ALTER TABLE metrics DROP COLUMN packets_received;
ALTER TABLE metrics DROP COLUMN packets_sent;
ALTER TABLE metrics DROP COLUMN answers;
ALTER TABLE metrics DROP COLUMN rcode;
