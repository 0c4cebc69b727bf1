-- Custom migration (drizzle-kit generate --custom). Moves the history into deliveries, fills the
-- per-day summary from what is stored, and adds the search index. 0009 then drops installation_events.
UPDATE deliveries SET payload = (SELECT e.payload FROM installation_events e WHERE e.delivery_id = deliveries.id) WHERE payload IS NULL;
--> statement-breakpoint
UPDATE deliveries SET payload = '{"data":{}}' WHERE payload IS NULL;
--> statement-breakpoint
-- installs / removals per day: each distinct (instance, iat) once (src/installations/daily-summary.ts).
INSERT INTO daily_summary (day, installs)
  SELECT issued_at / 86400000, count(*) FROM (SELECT DISTINCT instance_id, issued_at FROM deliveries WHERE event_type = 'AppInstalled') WHERE true GROUP BY 1
  ON CONFLICT (day) DO UPDATE SET installs = installs + excluded.installs;
--> statement-breakpoint
INSERT INTO daily_summary (day, removals)
  SELECT issued_at / 86400000, count(*) FROM (SELECT DISTINCT instance_id, issued_at FROM deliveries WHERE event_type = 'AppRemoved') WHERE true GROUP BY 1
  ON CONFLICT (day) DO UPDATE SET removals = removals + excluded.removals;
--> statement-breakpoint
-- churn: an install ended by the instance's next removal (at or after it, before any later install).
WITH starts AS (
  SELECT DISTINCT instance_id, issued_at AS start FROM deliveries WHERE event_type = 'AppInstalled'
), spans AS (
  SELECT instance_id, start, lead(start) OVER (PARTITION BY instance_id ORDER BY start) AS next_install FROM starts
), ended AS (
  SELECT start, next_install,
    (SELECT min(r.issued_at) FROM deliveries r WHERE r.instance_id = spans.instance_id AND r.event_type = 'AppRemoved' AND r.issued_at >= spans.start) AS removal
  FROM spans
)
INSERT INTO daily_summary (day, churn_1d, churn_7d, churn_30d)
  SELECT start / 86400000, sum(removal - start < 86400000), sum(removal - start < 604800000), sum(removal - start < 2592000000)
  FROM ended WHERE removal IS NOT NULL AND (next_install IS NULL OR removal < next_install) GROUP BY 1
  ON CONFLICT (day) DO UPDATE SET churn_1d = churn_1d + excluded.churn_1d, churn_7d = churn_7d + excluded.churn_7d, churn_30d = churn_30d + excluded.churn_30d;
--> statement-breakpoint
-- active_delta: +1 on the day of each installation's installed_at, −1 on the day of its removed_at.
INSERT INTO daily_summary (day, active_delta)
  SELECT installed_at / 86400000, count(*) FROM installations WHERE true GROUP BY 1
  ON CONFLICT (day) DO UPDATE SET active_delta = active_delta + excluded.active_delta;
--> statement-breakpoint
INSERT INTO daily_summary (day, active_delta)
  SELECT removed_at / 86400000, -count(*) FROM installations WHERE removed_at IS NOT NULL GROUP BY 1
  ON CONFLICT (day) DO UPDATE SET active_delta = active_delta + excluded.active_delta;
--> statement-breakpoint
CREATE TRIGGER installations_daily_insert AFTER INSERT ON installations BEGIN
  INSERT INTO daily_summary (day, active_delta) VALUES (NEW.installed_at / 86400000, 1)
    ON CONFLICT (day) DO UPDATE SET active_delta = active_delta + 1;
  INSERT INTO daily_summary (day, active_delta) SELECT NEW.removed_at / 86400000, -1 WHERE NEW.removed_at IS NOT NULL
    ON CONFLICT (day) DO UPDATE SET active_delta = active_delta - 1;
END;
--> statement-breakpoint
CREATE TRIGGER installations_daily_update AFTER UPDATE OF installed_at, removed_at ON installations
WHEN OLD.installed_at IS NOT NEW.installed_at OR OLD.removed_at IS NOT NEW.removed_at BEGIN
  INSERT INTO daily_summary (day, active_delta) VALUES (OLD.installed_at / 86400000, -1)
    ON CONFLICT (day) DO UPDATE SET active_delta = active_delta - 1;
  INSERT INTO daily_summary (day, active_delta) SELECT OLD.removed_at / 86400000, 1 WHERE OLD.removed_at IS NOT NULL
    ON CONFLICT (day) DO UPDATE SET active_delta = active_delta + 1;
  INSERT INTO daily_summary (day, active_delta) VALUES (NEW.installed_at / 86400000, 1)
    ON CONFLICT (day) DO UPDATE SET active_delta = active_delta + 1;
  INSERT INTO daily_summary (day, active_delta) SELECT NEW.removed_at / 86400000, -1 WHERE NEW.removed_at IS NOT NULL
    ON CONFLICT (day) DO UPDATE SET active_delta = active_delta - 1;
END;
--> statement-breakpoint
CREATE TRIGGER installations_daily_delete AFTER DELETE ON installations BEGIN
  INSERT INTO daily_summary (day, active_delta) VALUES (OLD.installed_at / 86400000, -1)
    ON CONFLICT (day) DO UPDATE SET active_delta = active_delta - 1;
  INSERT INTO daily_summary (day, active_delta) SELECT OLD.removed_at / 86400000, 1 WHERE OLD.removed_at IS NOT NULL
    ON CONFLICT (day) DO UPDATE SET active_delta = active_delta + 1;
END;
--> statement-breakpoint
-- Search (q): a trigram index over the site name, site URL and instance id, so a substring of
-- three or more characters is an index lookup at any size (src/db/sqlite/reads/installation-pages.ts).
CREATE VIRTUAL TABLE installations_search USING fts5(site_name, site_url, instance_id, content='installations', content_rowid='rowid', tokenize='trigram');
--> statement-breakpoint
INSERT INTO installations_search (installations_search) VALUES ('rebuild');
--> statement-breakpoint
CREATE TRIGGER installations_search_insert AFTER INSERT ON installations BEGIN
  INSERT INTO installations_search (rowid, site_name, site_url, instance_id) VALUES (NEW.rowid, NEW.site_name, NEW.site_url, NEW.instance_id);
END;
--> statement-breakpoint
CREATE TRIGGER installations_search_update AFTER UPDATE OF site_name, site_url ON installations BEGIN
  INSERT INTO installations_search (installations_search, rowid, site_name, site_url, instance_id) VALUES ('delete', OLD.rowid, OLD.site_name, OLD.site_url, OLD.instance_id);
  INSERT INTO installations_search (rowid, site_name, site_url, instance_id) VALUES (NEW.rowid, NEW.site_name, NEW.site_url, NEW.instance_id);
END;
--> statement-breakpoint
CREATE TRIGGER installations_search_delete AFTER DELETE ON installations BEGIN
  INSERT INTO installations_search (installations_search, rowid, site_name, site_url, instance_id) VALUES ('delete', OLD.rowid, OLD.site_name, OLD.site_url, OLD.instance_id);
END;
