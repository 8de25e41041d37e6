-- Per-location site state (pg_sink's `state:` with several locations; see its README "Locations
-- and quorum"). Each location keeps the state machine site_state kept alone before; site_state
-- keeps one row per site with the state its voting locations make it, so its readers keep working.
--   site_location_state: one row per (site, location); location '' holds the checks that name
--                        none (every row of before this migration);
--   site_state.locations: the locations behind the site's state, as JSON [{location, state,
--                        cause, detail}], and revision, the writers' compare-and-set key;
--   site_events.kind:    'site' (what pg_events delivers) or 'location' (one location's change,
--                        with `location`; written for sites seen from more than one location).

-- migrate:up
CREATE TABLE site_location_state (
    site                  text NOT NULL,
    location              text NOT NULL,
    url                   text NOT NULL,
    state                 text NOT NULL CHECK (state IN ('up', 'down', 'degraded')),
    since                 timestamptz NOT NULL,
    cause                 text,
    voting                boolean NOT NULL DEFAULT true,
    consecutive_failures  integer NOT NULL DEFAULT 0,
    consecutive_successes integer NOT NULL DEFAULT 0,
    consecutive_slow      integer NOT NULL DEFAULT 0,
    consecutive_healthy   integer NOT NULL DEFAULT 0,
    last_check_id         text,
    last_timestamp        timestamptz,
    last_error            text,
    last_error_detail     text,
    updated_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site, location)
) WITH (fillfactor = 50);

INSERT INTO site_location_state (site, location, url, state, since, cause, consecutive_failures,
                                 consecutive_successes, consecutive_slow, consecutive_healthy,
                                 last_check_id, last_timestamp, last_error, last_error_detail, updated_at)
SELECT site, '', url, state, since, cause, consecutive_failures, consecutive_successes, consecutive_slow,
       consecutive_healthy, last_check_id, last_timestamp, last_error, last_error_detail, updated_at
  FROM site_state;

ALTER TABLE site_state ADD COLUMN locations jsonb NOT NULL DEFAULT '[]',
                       ADD COLUMN revision bigint NOT NULL DEFAULT 0;
UPDATE site_state
   SET locations = jsonb_build_array(jsonb_build_object('location', '', 'state', state, 'cause', cause,
                                                        'detail', CASE state WHEN 'down' THEN last_error_detail END))
 WHERE state <> 'up';

ALTER TABLE site_events ADD COLUMN kind text NOT NULL DEFAULT 'site' CHECK (kind IN ('site', 'location')),
                        ADD COLUMN location text,
                        ADD COLUMN locations jsonb NOT NULL DEFAULT '[]',
                        ADD COLUMN previous_locations text[] NOT NULL DEFAULT '{}';
UPDATE site_events
   SET locations = jsonb_build_array(jsonb_build_object('location', '', 'state', to_state, 'cause', cause,
                                                        'detail', CASE to_state WHEN 'down' THEN error_detail END)),
       previous_locations = '{""}'
 WHERE to_state <> 'up' OR from_state <> 'up';
UPDATE site_events SET locations = '[]' WHERE to_state = 'up';
UPDATE site_events SET previous_locations = '{}' WHERE from_state = 'up';
CREATE INDEX site_events_location ON site_events (site, location, at) WHERE kind = 'location';

-- migrate:down
DROP INDEX site_events_location;
DELETE FROM site_events WHERE kind = 'location';
ALTER TABLE site_events DROP COLUMN previous_locations, DROP COLUMN locations, DROP COLUMN location,
                        DROP COLUMN kind;
ALTER TABLE site_state DROP COLUMN revision, DROP COLUMN locations;
DROP TABLE site_location_state;
