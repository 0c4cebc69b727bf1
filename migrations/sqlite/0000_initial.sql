CREATE TABLE `installations` (
	`instance_id` text PRIMARY KEY NOT NULL,
	`app_id` text,
	`status` text NOT NULL,
	`installed_at` integer NOT NULL,
	`installed_at_inferred` integer DEFAULT false NOT NULL,
	`removed_at` integer,
	`origin_instance_id` text,
	`last_event_at` integer NOT NULL,
	`first_seen_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`configured_at` integer,
	`plan_vendor_product_id` text,
	`plan_cycle` text,
	`plan_expires_on` text,
	`plan_auto_renewing` integer,
	`plan_changed_at` integer,
	`site_id` text,
	`account_id` text,
	`site_name` text,
	`site_url` text,
	`app_version` text,
	`is_free` integer,
	`site_synced_at` integer
);
--> statement-breakpoint
CREATE INDEX `installations_installed_idx` ON `installations` (`installed_at`,`instance_id`);--> statement-breakpoint
CREATE INDEX `installations_status_installed_idx` ON `installations` (`status`,`installed_at`,`instance_id`);--> statement-breakpoint
CREATE TABLE `deliveries` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`jwt_sha256` text NOT NULL,
	`jwt` text NOT NULL,
	`event_type` text NOT NULL,
	`instance_id` text NOT NULL,
	`issued_at` integer NOT NULL,
	`received_at` integer NOT NULL,
	`outcome` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `deliveries_jwt_sha256_unique` ON `deliveries` (`jwt_sha256`);--> statement-breakpoint
CREATE INDEX `deliveries_instance_idx` ON `deliveries` (`instance_id`,`issued_at`);--> statement-breakpoint
CREATE TABLE `installation_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`delivery_id` integer NOT NULL,
	`instance_id` text NOT NULL,
	`event_type` text NOT NULL,
	`issued_at` integer NOT NULL,
	`received_at` integer NOT NULL,
	`payload` text NOT NULL,
	FOREIGN KEY (`delivery_id`) REFERENCES `deliveries`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `installation_events_delivery_id_unique` ON `installation_events` (`delivery_id`);--> statement-breakpoint
CREATE INDEX `installation_events_instance_idx` ON `installation_events` (`instance_id`,`issued_at`);