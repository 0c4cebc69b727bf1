DROP INDEX `deliveries_instance_idx`;--> statement-breakpoint
DROP INDEX `outbox_jobs_instance_idx`;--> statement-breakpoint
DROP INDEX `outbox_jobs_once_per_installation`;--> statement-breakpoint
CREATE UNIQUE INDEX `outbox_jobs_once_per_installation` ON `outbox_jobs` (`instance_id`,`kind`,`installation_started_at`);