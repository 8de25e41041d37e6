-- A site seen from three locations (status_page_test.cpp, over fixture.sql): delta is a partial
-- outage, down from us for the last 30 minutes, up from eu; ap went silent an hour ago.
INSERT INTO site_state (site, url, state, since, cause, last_timestamp, last_error, last_error_detail, locations)
VALUES ('delta', 'https://delta.example/', 'degraded', now() - interval '30 minutes', 'partial', now(), 'connect',
        'Connection refused',
        '[{"location": "us", "state": "down", "cause": "connect", "detail": "Connection refused"}]');
-- location_states: [location, state, since, cause, voting, failures, successes, slow, healthy,
-- last_check_id, last_timestamp, last_error, last_error_detail] per location.
UPDATE site_state SET location_states = jsonb_build_array(
    jsonb_build_array('eu', 'up', now() - interval '90 days', NULL, true, 0, 20, 0, 20, 'e9', now(), NULL, NULL),
    jsonb_build_array('us', 'down', now() - interval '30 minutes', 'connect', true, 20, 0, 0, 0, 'u9', now(),
                      'connect', 'Connection refused'),
    jsonb_build_array('ap', 'up', now() - interval '2 days', NULL, false, 0, 5, 0, 5, 'a9', now() - interval '1 hour',
                      NULL, NULL))::text
 WHERE site = 'delta';
-- 24 hours: eu every check good, us half of them.
INSERT INTO metrics_hourly (name, bucket, location, checks, ok_checks, response_time_sum, response_time_min,
                            response_time_max, histogram)
SELECT 'delta', date_trunc('hour', now()) - h * interval '1 hour', l, 60, CASE l WHEN 'eu' THEN 60 ELSE 30 END, 6000,
       81, 101, array_fill(0, ARRAY[19]) || 60 || array_fill(0, ARRAY[28])
  FROM unnest(ARRAY['eu', 'us']) l, generate_series(0, 23) h;
INSERT INTO site_events (site, url, from_state, to_state, at, since, check_id, reason, cause, kind, location)
VALUES ('delta', 'https://delta.example/', 'up', 'down', now() - interval '30 minutes', now() - interval '90 days',
        'd1', '3 failed checks in a row: connect: Connection refused', 'connect', 'location', 'us'),
       ('delta', 'https://delta.example/', 'up', 'degraded', now() - interval '30 minutes',
        now() - interval '90 days', 'd1', 'down from 1 of 3 voting locations, under the quorum majority: 2: us: '
        'connect: Connection refused', 'partial', 'site', NULL);
