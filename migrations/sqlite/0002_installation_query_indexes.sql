CREATE INDEX `installations_removed_idx` ON `installations` (`removed_at`,`instance_id`);--> statement-breakpoint
CREATE INDEX `installations_status_removed_idx` ON `installations` (`status`,`removed_at`,`instance_id`);--> statement-breakpoint
CREATE INDEX `installations_updated_idx` ON `installations` (`updated_at`,`instance_id`);--> statement-breakpoint
CREATE INDEX `installations_plan_tier_installed_idx` ON `installations` ((CASE WHEN "is_free" = 0 OR "plan_vendor_product_id" IS NOT NULL THEN 'paid' ELSE 'free' END),`installed_at`,`instance_id`);--> statement-breakpoint
CREATE INDEX `installations_plan_product_installed_idx` ON `installations` (`plan_vendor_product_id`,`installed_at`,`instance_id`);--> statement-breakpoint
CREATE INDEX `installation_events_type_issued_idx` ON `installation_events` (`event_type`,`issued_at`,`instance_id`);