-- Site state and incidents, kept by pg_sink (with `state:`) in the same transaction as the rows
-- that change them, and only from rows newly inserted, so a redelivered check changes nothing.
--   site_state:          one row per site: where it stands and the counts that move it;
--   site_events:         every change of state (the incident history, and the alerts' outbox);
--   site_events_cursors: how far each pg_events reader has delivered (moved on acknowledgement).
-- site_events.id is taken under a transaction-level advisory lock held until COMMIT, so ids
-- grow in commit order: a reader that has seen id N has seen every event before it.

-- migrate:up
CREATE TABLE site_state (
    site                  text PRIMARY KEY,
    url                   text NOT NULL,
    state                 text NOT NULL CHECK (state IN ('up', 'down', 'degraded')),
    since                 timestamptz NOT NULL,
    cause                 text,
    consecutive_failures  integer NOT NULL DEFAULT 0,
    consecutive_successes integer NOT NULL DEFAULT 0,
    consecutive_slow      integer NOT NULL DEFAULT 0,
    consecutive_healthy   integer NOT NULL DEFAULT 0,
    last_check_id         text,
    last_timestamp        timestamptz,
    last_error            text,
    last_error_detail     text,
    updated_at            timestamptz NOT NULL DEFAULT now()
) WITH (fillfactor = 50);
-- Every check rewrites its site's row. Room left on each page keeps those updates HOT (no new
-- index entry, the old version pruned on the page), so the table and its index stay the size of
-- the site list instead of growing with every check between vacuums.

CREATE TABLE site_events (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site           text NOT NULL,
    url            text NOT NULL,
    from_state     text NOT NULL,
    to_state       text NOT NULL,
    at             timestamptz NOT NULL,
    since          timestamptz NOT NULL,
    check_id       text NOT NULL,
    reason         text NOT NULL,
    cause          text,
    previous_cause text,
    error_detail   text,
    recorded_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX site_events_site_at ON site_events (site, at);

CREATE TABLE site_events_cursors (
    name       text PRIMARY KEY,
    last_id    bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- migrate:down
DROP TABLE site_events_cursors;
DROP TABLE site_events;
DROP TABLE site_state;
