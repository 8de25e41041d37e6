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

-- migrate:down
DROP INDEX site_state_page_order;
DROP INDEX site_state_group;
ALTER TABLE site_state DROP COLUMN site_group;
ALTER TABLE metrics DROP COLUMN "group";
