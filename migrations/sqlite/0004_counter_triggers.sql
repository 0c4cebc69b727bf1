-- Custom migration (drizzle-kit generate --custom): triggers that keep registry_counters exact.
-- Every writer (the server, the CLI, a replay) goes through them, so /v1/stats never has to count rows.
INSERT INTO registry_counters (name, value) VALUES ('installations.active', 0), ('installations.removed', 0), ('outbox.pending', 0), ('outbox.running', 0), ('outbox.done', 0), ('outbox.dead', 0), ('outbox.cancelled', 0) ON CONFLICT (name) DO NOTHING;
--> statement-breakpoint
UPDATE registry_counters SET value = (SELECT count(*) FROM installations WHERE 'installations.' || status = registry_counters.name) WHERE name LIKE 'installations.%';
--> statement-breakpoint
CREATE TRIGGER installations_counter_insert AFTER INSERT ON installations BEGIN
  UPDATE registry_counters SET value = value + 1 WHERE name = 'installations.' || NEW.status;
END;
--> statement-breakpoint
CREATE TRIGGER installations_counter_update AFTER UPDATE OF status ON installations WHEN OLD.status IS NOT NEW.status BEGIN
  UPDATE registry_counters SET value = value - 1 WHERE name = 'installations.' || OLD.status;
  UPDATE registry_counters SET value = value + 1 WHERE name = 'installations.' || NEW.status;
END;
--> statement-breakpoint
CREATE TRIGGER installations_counter_delete AFTER DELETE ON installations BEGIN
  UPDATE registry_counters SET value = value - 1 WHERE name = 'installations.' || OLD.status;
END;
--> statement-breakpoint
UPDATE registry_counters SET value = (SELECT count(*) FROM outbox_jobs WHERE 'outbox.' || status = registry_counters.name) WHERE name LIKE 'outbox.%';
--> statement-breakpoint
CREATE TRIGGER outbox_jobs_counter_insert AFTER INSERT ON outbox_jobs BEGIN
  UPDATE registry_counters SET value = value + 1 WHERE name = 'outbox.' || NEW.status;
END;
--> statement-breakpoint
CREATE TRIGGER outbox_jobs_counter_update AFTER UPDATE OF status ON outbox_jobs WHEN OLD.status IS NOT NEW.status BEGIN
  UPDATE registry_counters SET value = value - 1 WHERE name = 'outbox.' || OLD.status;
  UPDATE registry_counters SET value = value + 1 WHERE name = 'outbox.' || NEW.status;
END;
--> statement-breakpoint
CREATE TRIGGER outbox_jobs_counter_delete AFTER DELETE ON outbox_jobs BEGIN
  UPDATE registry_counters SET value = value - 1 WHERE name = 'outbox.' || OLD.status;
END;
