CREATE INDEX `token_handouts_key_idx` ON `token_handouts` (`api_key_id`,`requested_at`);--> statement-breakpoint
CREATE INDEX `token_handouts_time_idx` ON `token_handouts` (`requested_at`);