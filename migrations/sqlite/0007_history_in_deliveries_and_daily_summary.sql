CREATE TABLE `daily_summary` (
	`day` integer PRIMARY KEY NOT NULL,
	`installs` integer DEFAULT 0 NOT NULL,
	`removals` integer DEFAULT 0 NOT NULL,
	`active_delta` integer DEFAULT 0 NOT NULL,
	`churn_1d` integer DEFAULT 0 NOT NULL,
	`churn_7d` integer DEFAULT 0 NOT NULL,
	`churn_30d` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
ALTER TABLE `deliveries` ADD `payload` text;--> statement-breakpoint
CREATE INDEX `deliveries_instance_idx` ON `deliveries` (`instance_id`,`issued_at`);