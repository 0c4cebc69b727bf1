CREATE TABLE `changes` (
	`position` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`id` text NOT NULL,
	`type` text NOT NULL,
	`instance_id` text NOT NULL,
	`occurred_at` integer NOT NULL,
	`recorded_at` integer NOT NULL,
	`installation` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `changes_instance_idx` ON `changes` (`instance_id`,`position`);--> statement-breakpoint
CREATE TABLE `push_endpoints` (
	`url` text PRIMARY KEY NOT NULL,
	`active` integer DEFAULT true NOT NULL,
	`added_at` integer NOT NULL,
	`last_success_at` integer,
	`last_failure_at` integer,
	`last_error` text,
	`consecutive_failures` integer DEFAULT 0 NOT NULL,
	`failed_attempts` integer DEFAULT 0 NOT NULL,
	`delivered` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
DROP INDEX `outbox_jobs_once_per_installation`;--> statement-breakpoint
DROP INDEX `outbox_jobs_due_idx`;--> statement-breakpoint
ALTER TABLE `outbox_jobs` ADD `endpoint` text;--> statement-breakpoint
ALTER TABLE `outbox_jobs` ADD `change_position` integer;--> statement-breakpoint
CREATE INDEX `outbox_jobs_push_open_idx` ON `outbox_jobs` (`endpoint`,`instance_id`,`change_position`) WHERE "outbox_jobs"."change_position" IS NOT NULL AND "outbox_jobs"."status" IN ('pending', 'running', 'dead');--> statement-breakpoint
CREATE UNIQUE INDEX `outbox_jobs_once_per_installation` ON `outbox_jobs` (`instance_id`,`kind`,`installation_started_at`) WHERE "outbox_jobs"."change_position" IS NULL;--> statement-breakpoint
CREATE INDEX `outbox_jobs_due_idx` ON `outbox_jobs` (`status`,`endpoint`,`run_after`);