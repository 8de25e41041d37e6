-- SDK ABI 4.0's record field `group` (http_check's site option: a team, a product), kept with
-- each row and, by pg_sink's `state:`, with each site's state, where the status page filters by it.

-- migrate:up
ALTER TABLE metrics ADD COLUMN "group" text;
ALTER TABLE site_state ADD COLUMN site_group text;
CREATE INDEX site_state_group ON site_state (site_group) WHERE site_group IS NOT NULL;
-- The status page's order (down, degraded, up, then by name), so a page of the overview is an
-- index range, not a sort of every site.
CREATE INDEX site_state_page_order ON site_state
    ((CASE state WHEN 'down' THEN 0 WHEN 'degraded' THEN 1 ELSE 2 END), site);

-- The overview's search (a part of a name, any case) through trigrams, when pg_trgm may be
-- created here (it ships with PostgreSQL and is a trusted extension: a database owner may create
-- it); without it the search reads every site, which stays under 200 ms at 100,000 sites.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX site_state_site_trgm ON site_state USING gin (lower(site) gin_trgm_ops);
EXCEPTION WHEN insufficient_privilege OR undefined_file OR feature_not_supported THEN
    RAISE NOTICE 'pg_trgm is not available (%): the status page''s search reads every site', SQLERRM;
END
$$;

-- migrate:down
DROP INDEX IF EXISTS site_state_site_trgm;
DROP INDEX site_state_page_order;
DROP INDEX site_state_group;
ALTER TABLE site_state DROP COLUMN site_group;
ALTER TABLE metrics DROP COLUMN "group";
