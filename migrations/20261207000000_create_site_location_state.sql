-- Per-location site state (pg_sink's `state:` with several locations; see its README "Locations
-- and quorum"). Each location keeps the state machine site_state kept alone before; site_state
-- keeps one row per site with the state its voting locations make it, so its readers keep working.
--   site_state.location_states: each location's state, kept in the site's row so that a check
--                        costs one row write whatever the number of locations, and the row's
--                        revision guards them all. JSON text, one array per location:
--                        [location, state, since, cause, voting, consecutive_failures,
--                        consecutive_successes, consecutive_slow, consecutive_healthy,
--                        last_check_id, last_timestamp, last_error, last_error_detail]
--                        (positional: it is written with every check; text, not jsonb: it is
--                        read seldom, so it is not parsed on every write). Empty for a site seen
--                        only by checks that name no location (location ''): the site's own
--                        columns are that location's state, so such a site costs what it always
--                        did, and every site of before this migration is one;
--   site_location_state: a view of them, one row per (site, location), for readers;
--   site_state.locations: the locations behind the site's state, as JSON [{location, state,
--                        cause, detail}], and revision, the writers' compare-and-set key;
--   site_events.kind:    'site' (what pg_events delivers) or 'location' (one location's change,
--                        with `location`; written for sites seen from more than one location).

-- migrate:up
ALTER TABLE site_state ADD COLUMN locations jsonb NOT NULL DEFAULT '[]',
                       ADD COLUMN location_states text NOT NULL DEFAULT '',
                       ADD COLUMN revision bigint NOT NULL DEFAULT 0;
UPDATE site_state
   SET locations = jsonb_build_array(jsonb_build_object('location', '', 'state', state, 'cause', cause, 'detail',
                                                        CASE state WHEN 'down' THEN last_error_detail END))
 WHERE state <> 'up';

CREATE VIEW site_location_state AS
SELECT s.site, l->>0 AS location, s.url, l->>1 AS state, (l->>2)::timestamptz AS since, l->>3 AS cause,
       (l->>4)::boolean AS voting, (l->>5)::integer AS consecutive_failures,
       (l->>6)::integer AS consecutive_successes, (l->>7)::integer AS consecutive_slow,
       (l->>8)::integer AS consecutive_healthy, l->>9 AS last_check_id, (l->>10)::timestamptz AS last_timestamp,
       l->>11 AS last_error, l->>12 AS last_error_detail, s.updated_at
  FROM site_state s, jsonb_array_elements(nullif(s.location_states, '')::jsonb) AS l
UNION ALL
SELECT s.site, '', s.url, s.state, s.since, s.cause, true, s.consecutive_failures, s.consecutive_successes,
       s.consecutive_slow, s.consecutive_healthy, s.last_check_id, s.last_timestamp, s.last_error,
       s.last_error_detail, s.updated_at
  FROM site_state s
 WHERE s.location_states = '';
COMMENT ON VIEW site_location_state IS
    'Each location''s state of each site (pg_sink state:), from site_state.location_states';

ALTER TABLE site_events ADD COLUMN kind text NOT NULL DEFAULT 'site' CHECK (kind IN ('site', 'location')),
                        ADD COLUMN location text,
                        ADD COLUMN locations jsonb NOT NULL DEFAULT '[]',
                        ADD COLUMN previous_locations text[] NOT NULL DEFAULT '{}';
UPDATE site_events
   SET locations = CASE WHEN to_state = 'up' THEN '[]'::jsonb
                        ELSE jsonb_build_array(jsonb_build_object('location', '', 'state', to_state, 'cause', cause,
                                                'detail', CASE to_state WHEN 'down' THEN error_detail END)) END,
       previous_locations = CASE WHEN from_state = 'up' THEN '{}'::text[] ELSE '{""}'::text[] END;
CREATE INDEX site_events_location ON site_events (site, location, at) WHERE kind = 'location';

-- migrate:down
DROP INDEX site_events_location;
DELETE FROM site_events WHERE kind = 'location';
ALTER TABLE site_events DROP COLUMN previous_locations, DROP COLUMN locations, DROP COLUMN location,
                        DROP COLUMN kind;
DROP VIEW site_location_state;
ALTER TABLE site_state DROP COLUMN revision, DROP COLUMN location_states, DROP COLUMN locations;
