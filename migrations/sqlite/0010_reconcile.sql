CREATE TABLE `reconcile_schedule` (
	`name` text PRIMARY KEY NOT NULL,
	`cursor` text,
	`lease_owner` text,
	`lease_until` integer DEFAULT 0 NOT NULL,
	`next_run_at` integer DEFAULT 0 NOT NULL,
	`last_stop` text,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `installations` ADD `checked_at` integer;--> statement-breakpoint
ALTER TABLE `deliveries` ADD `source` text DEFAULT 'wix' NOT NULL;