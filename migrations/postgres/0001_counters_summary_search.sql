-- Custom migration (drizzle-kit generate --custom): what SQLite does with triggers and FTS5
-- (migrations/sqlite/0004, 0008), in PostgreSQL's own terms.

-- Counters (/v1/stats reads a few rows instead of counting a million).
INSERT INTO registry_counters (name, value) VALUES
  ('installations.active', 0), ('installations.removed', 0),
  ('outbox.pending', 0), ('outbox.running', 0), ('outbox.done', 0), ('outbox.dead', 0), ('outbox.cancelled', 0)
ON CONFLICT (name) DO NOTHING;
--> statement-breakpoint
CREATE FUNCTION registry_count_status() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE prefix text := TG_ARGV[0];
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE registry_counters SET value = value - 1 WHERE name = prefix || OLD.status;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    UPDATE registry_counters SET value = value + 1 WHERE name = prefix || NEW.status;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER installations_counter_insert_delete AFTER INSERT OR DELETE ON installations
  FOR EACH ROW EXECUTE FUNCTION registry_count_status('installations.');
--> statement-breakpoint
CREATE TRIGGER installations_counter_update AFTER UPDATE OF status ON installations
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION registry_count_status('installations.');
--> statement-breakpoint
CREATE TRIGGER outbox_jobs_counter_insert_delete AFTER INSERT OR DELETE ON outbox_jobs
  FOR EACH ROW EXECUTE FUNCTION registry_count_status('outbox.');
--> statement-breakpoint
CREATE TRIGGER outbox_jobs_counter_update AFTER UPDATE OF status ON outbox_jobs
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION registry_count_status('outbox.');
--> statement-breakpoint

-- The per-day summary's active_delta: +1 on the day of an installation's installed_at, -1 on the
-- day of its removed_at (src/installations/daily-summary.ts).
CREATE FUNCTION registry_daily_active() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    INSERT INTO daily_summary (day, active_delta) VALUES (OLD.installed_at / 86400000, -1)
      ON CONFLICT (day) DO UPDATE SET active_delta = daily_summary.active_delta - 1;
    IF OLD.removed_at IS NOT NULL THEN
      INSERT INTO daily_summary (day, active_delta) VALUES (OLD.removed_at / 86400000, 1)
        ON CONFLICT (day) DO UPDATE SET active_delta = daily_summary.active_delta + 1;
    END IF;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO daily_summary (day, active_delta) VALUES (NEW.installed_at / 86400000, 1)
      ON CONFLICT (day) DO UPDATE SET active_delta = daily_summary.active_delta + 1;
    IF NEW.removed_at IS NOT NULL THEN
      INSERT INTO daily_summary (day, active_delta) VALUES (NEW.removed_at / 86400000, -1)
        ON CONFLICT (day) DO UPDATE SET active_delta = daily_summary.active_delta - 1;
    END IF;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER installations_daily_insert_delete AFTER INSERT OR DELETE ON installations
  FOR EACH ROW EXECUTE FUNCTION registry_daily_active();
--> statement-breakpoint
CREATE TRIGGER installations_daily_update AFTER UPDATE OF installed_at, removed_at ON installations
  FOR EACH ROW WHEN (OLD.installed_at IS DISTINCT FROM NEW.installed_at OR OLD.removed_at IS DISTINCT FROM NEW.removed_at)
  EXECUTE FUNCTION registry_daily_active();
--> statement-breakpoint

-- Search (q): pg_trgm, as SQLite's FTS5 trigram table: a substring of three or more characters of
-- the site name, site URL or instance id is a GIN index lookup at any size. PostgreSQL keeps a GIN
-- index's new entries in its pending list and merges them in the background, so a new row costs
-- the webhook little. The expression is the one the search query uses (src/db/postgres/reads).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
--> statement-breakpoint
CREATE INDEX installations_search_idx ON installations
  USING gin ((coalesce(site_name, '') || ' ' || coalesce(site_url, '') || ' ' || instance_id) gin_trgm_ops);
