CREATE TABLE `outbox_jobs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`kind` text NOT NULL,
	`instance_id` text NOT NULL,
	`installation_started_at` integer NOT NULL,
	`status` text DEFAULT 'pending' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`run_after` integer NOT NULL,
	`lease_until` integer,
	`last_error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`completed_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `outbox_jobs_once_per_installation` ON `outbox_jobs` (`kind`,`instance_id`,`installation_started_at`);--> statement-breakpoint
CREATE INDEX `outbox_jobs_due_idx` ON `outbox_jobs` (`status`,`run_after`);--> statement-breakpoint
CREATE INDEX `outbox_jobs_instance_idx` ON `outbox_jobs` (`instance_id`);--> statement-breakpoint
CREATE TABLE `token_handouts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`api_key_id` text NOT NULL,
	`instance_id` text NOT NULL,
	`requested_at` integer NOT NULL,
	`outcome` text NOT NULL,
	`token_expires_at` integer,
	`request_id` text
);
--> statement-breakpoint
CREATE INDEX `token_handouts_instance_idx` ON `token_handouts` (`instance_id`,`requested_at`);