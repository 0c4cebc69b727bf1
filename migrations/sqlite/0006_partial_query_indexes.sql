DROP INDEX `installations_status_removed_idx`;--> statement-breakpoint
DROP INDEX `installations_removed_idx`;--> statement-breakpoint
DROP INDEX `installations_plan_product_installed_idx`;--> statement-breakpoint
CREATE INDEX `installations_removed_idx` ON `installations` (`removed_at`,`instance_id`) WHERE "installations"."removed_at" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `installations_plan_product_installed_idx` ON `installations` (`plan_vendor_product_id`,`installed_at`,`instance_id`) WHERE "installations"."plan_vendor_product_id" IS NOT NULL;