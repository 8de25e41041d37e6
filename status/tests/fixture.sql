-- The status page's test data (status_page_test.cpp, browser/status_page_browser_test.mjs), relative
-- to now(): alpha up, every check good for 90 days at about 100 ms; bravo down for the last 2
-- hours (connection refused), good before; charlie degraded (slow), with a URL that is a script;
-- and a site whose name and URL are markup.
INSERT INTO site_state (site, url, state, since, cause, last_timestamp, last_error) VALUES
  ('alpha', 'https://alpha.example/', 'up', now() - interval '90 days', NULL, now(), NULL),
  ('bravo', 'https://bravo.example/', 'down', date_trunc('hour', now()) - interval '1 hour', 'connect', now(),
   'connect: Connection refused'),
  ('charlie', 'javascript:alert(2)', 'degraded', now() - interval '1 day', 'slow', now(), NULL),
  ('<script>alert(1)</script>', 'https://x.example/"><script>alert(3)</script>', 'up', now() - interval '1 day',
   NULL, now(), NULL);
UPDATE site_state SET site_group = CASE site WHEN 'bravo' THEN 'payments' WHEN 'alpha' THEN 'web'
                                             WHEN 'charlie' THEN 'web' END;
-- charlie is a TCP port (tcp_check); the others hold no kind, as rows of before it: http.
UPDATE site_state SET kind = 'tcp' WHERE site = 'charlie';
-- 60 checks an hour; histogram: all in bucket 19 (0-based), 80.6 .. 101.6 ms; alpha's mean moves
-- with the time of day (the chart has a shape), bravo's stays at 100 ms.
INSERT INTO metrics_hourly
SELECT s, date_trunc('hour', now()) - h * interval '1 hour', 60,
       CASE WHEN s = 'bravo' AND h < 2 THEN 0 ELSE 60 END,
       CASE WHEN s = 'alpha' THEN 60 * (90 + 10 * sin(h / 4.0)) ELSE 6000 END, 81, 101,
       array_fill(0, ARRAY[19]) || 60 || array_fill(0, ARRAY[28])
  FROM unnest(ARRAY['alpha', 'bravo']) s, generate_series(0, 167) h;
INSERT INTO metrics_daily
SELECT s, date_trunc('day', now()) - d * interval '1 day', 1440,
       CASE WHEN s = 'bravo' AND d = 0 THEN 1320 ELSE 1440 END, 144000, 95, 105,
       array_fill(0, ARRAY[19]) || 1440 || array_fill(0, ARRAY[28])
  FROM unnest(ARRAY['alpha', 'bravo']) s, generate_series(0, 89) d;
INSERT INTO site_events (site, url, from_state, to_state, at, since, check_id, reason, cause)
VALUES ('bravo', 'https://bravo.example/', 'up', 'down', date_trunc('hour', now()) - interval '1 hour',
        now() - interval '90 days', 'c1', '3 failed checks in a row: connect: Connection refused', 'connect');
INSERT INTO metrics (name, url, response_time, status_code, "timestamp", check_id, ok, tls_not_after)
VALUES ('alpha', 'https://alpha.example/', 100, 200, now(), 'a1', true, '2027-03-01T00:00:00Z');
