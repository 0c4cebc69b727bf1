-- Custom migration (drizzle-kit generate --custom). Tokenizing a new installation's instance id
-- into trigrams was a quarter of the writer's work per webhook. A new row is now only noted in
-- search_pending; the writer indexes pending rows when it is idle (and in bounded slices when the
-- backlog grows), and searches look at pending rows directly, so results stay exact meanwhile
-- (src/db/sqlite/reads/installation-pages.ts, src/db/sqlite/search-index.ts).
CREATE TABLE search_pending (installation_rowid INTEGER PRIMARY KEY);
--> statement-breakpoint
DROP TRIGGER installations_search_insert;
--> statement-breakpoint
DROP TRIGGER installations_search_update;
--> statement-breakpoint
DROP TRIGGER installations_search_delete;
--> statement-breakpoint
CREATE TRIGGER installations_search_insert AFTER INSERT ON installations BEGIN
  INSERT INTO search_pending (installation_rowid) VALUES (NEW.rowid);
END;
--> statement-breakpoint
-- An indexed row is re-indexed at once (site sync, not the webhook path); a pending one is indexed later with its current values.
CREATE TRIGGER installations_search_update AFTER UPDATE OF site_name, site_url ON installations
WHEN NOT EXISTS (SELECT 1 FROM search_pending WHERE installation_rowid = NEW.rowid) BEGIN
  INSERT INTO installations_search (installations_search, rowid, site_name, site_url, instance_id) VALUES ('delete', OLD.rowid, OLD.site_name, OLD.site_url, OLD.instance_id);
  INSERT INTO installations_search (rowid, site_name, site_url, instance_id) VALUES (NEW.rowid, NEW.site_name, NEW.site_url, NEW.instance_id);
END;
--> statement-breakpoint
CREATE TRIGGER installations_search_delete AFTER DELETE ON installations BEGIN
  INSERT INTO installations_search (installations_search, rowid, site_name, site_url, instance_id)
    SELECT 'delete', OLD.rowid, OLD.site_name, OLD.site_url, OLD.instance_id
    WHERE NOT EXISTS (SELECT 1 FROM search_pending WHERE installation_rowid = OLD.rowid);
  DELETE FROM search_pending WHERE installation_rowid = OLD.rowid;
END;
