CREATE TABLE `registry_state` (
	`name` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `dashboard_sessions` (
	`id_hash` text PRIMARY KEY NOT NULL,
	`api_key_id` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `delivery_jwts` (
	`delivery_id` integer PRIMARY KEY NOT NULL,
	`jwt` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `token_handouts_key_idx` ON `token_handouts` (`api_key_id`,`requested_at`);--> statement-breakpoint
CREATE INDEX `token_handouts_time_idx` ON `token_handouts` (`requested_at`);