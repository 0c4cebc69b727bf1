CREATE TABLE `delivery_jwts` (
	`delivery_id` integer PRIMARY KEY NOT NULL,
	`jwt` text NOT NULL
);
