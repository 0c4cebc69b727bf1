CREATE TABLE "installations" (
	"instance_id" text PRIMARY KEY NOT NULL,
	"app_id" text,
	"status" text NOT NULL,
	"installed_at" bigint NOT NULL,
	"installed_at_inferred" boolean DEFAULT false NOT NULL,
	"removed_at" bigint,
	"origin_instance_id" text,
	"last_event_at" bigint NOT NULL,
	"first_seen_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	"configured_at" bigint,
	"plan_vendor_product_id" text,
	"plan_cycle" text,
	"plan_expires_on" text,
	"plan_auto_renewing" boolean,
	"plan_changed_at" bigint,
	"site_id" text,
	"account_id" text,
	"site_name" text,
	"site_url" text,
	"app_version" text,
	"is_free" boolean,
	"site_synced_at" bigint,
	"checked_at" bigint
);
--> statement-breakpoint
CREATE TABLE "deliveries" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "deliveries_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"jwt_sha256" text NOT NULL,
	"event_type" text NOT NULL,
	"instance_id" text NOT NULL,
	"issued_at" bigint NOT NULL,
	"received_at" bigint NOT NULL,
	"outcome" text NOT NULL,
	"payload" jsonb,
	"source" text DEFAULT 'wix' NOT NULL,
	CONSTRAINT "deliveries_jwt_sha256_unique" UNIQUE("jwt_sha256")
);
--> statement-breakpoint
CREATE TABLE "outbox_jobs" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "outbox_jobs_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"kind" text NOT NULL,
	"instance_id" text NOT NULL,
	"installation_started_at" bigint NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" bigint DEFAULT 0 NOT NULL,
	"run_after" bigint NOT NULL,
	"lease_until" bigint,
	"last_error" text,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	"completed_at" bigint,
	"endpoint" text,
	"change_position" bigint
);
--> statement-breakpoint
CREATE TABLE "token_handouts" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "token_handouts_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"api_key_id" text NOT NULL,
	"instance_id" text NOT NULL,
	"requested_at" bigint NOT NULL,
	"outcome" text NOT NULL,
	"token_expires_at" bigint,
	"request_id" text
);
--> statement-breakpoint
CREATE TABLE "registry_counters" (
	"name" text PRIMARY KEY NOT NULL,
	"value" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "daily_summary" (
	"day" bigint PRIMARY KEY NOT NULL,
	"installs" bigint DEFAULT 0 NOT NULL,
	"removals" bigint DEFAULT 0 NOT NULL,
	"active_delta" bigint DEFAULT 0 NOT NULL,
	"churn_1d" bigint DEFAULT 0 NOT NULL,
	"churn_7d" bigint DEFAULT 0 NOT NULL,
	"churn_30d" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "reconcile_schedule" (
	"name" text PRIMARY KEY NOT NULL,
	"cursor" text,
	"lease_owner" text,
	"lease_until" bigint DEFAULT 0 NOT NULL,
	"next_run_at" bigint DEFAULT 0 NOT NULL,
	"last_stop" text,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "registry_state" (
	"name" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "dashboard_sessions" (
	"id_hash" text PRIMARY KEY NOT NULL,
	"api_key_id" text NOT NULL,
	"created_at" bigint NOT NULL,
	"expires_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "delivery_jwts" (
	"delivery_id" bigint PRIMARY KEY NOT NULL,
	"jwt" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "changes" (
	"position" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "changes_position_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"id" text NOT NULL,
	"type" text NOT NULL,
	"instance_id" text NOT NULL,
	"occurred_at" bigint NOT NULL,
	"recorded_at" bigint NOT NULL,
	"installation" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "push_endpoints" (
	"url" text PRIMARY KEY NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"added_at" bigint NOT NULL,
	"last_success_at" bigint,
	"last_failure_at" bigint,
	"last_error" text,
	"consecutive_failures" bigint DEFAULT 0 NOT NULL,
	"failed_attempts" bigint DEFAULT 0 NOT NULL,
	"delivered" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE INDEX "installations_installed_idx" ON "installations" USING btree ("installed_at","instance_id");--> statement-breakpoint
CREATE INDEX "installations_status_installed_idx" ON "installations" USING btree ("status","installed_at","instance_id");--> statement-breakpoint
CREATE INDEX "installations_removed_idx" ON "installations" USING btree ("removed_at","instance_id") WHERE "installations"."removed_at" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "installations_updated_idx" ON "installations" USING btree ("updated_at","instance_id");--> statement-breakpoint
CREATE INDEX "installations_plan_tier_installed_idx" ON "installations" USING btree ((CASE WHEN "is_free" IS FALSE OR "plan_vendor_product_id" IS NOT NULL THEN 'paid' ELSE 'free' END),"installed_at","instance_id");--> statement-breakpoint
CREATE INDEX "installations_plan_product_installed_idx" ON "installations" USING btree ("plan_vendor_product_id","installed_at","instance_id") WHERE "installations"."plan_vendor_product_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "deliveries_instance_idx" ON "deliveries" USING btree ("instance_id","issued_at");--> statement-breakpoint
CREATE UNIQUE INDEX "outbox_jobs_once_per_installation" ON "outbox_jobs" USING btree ("instance_id","kind","installation_started_at") WHERE "outbox_jobs"."change_position" IS NULL;--> statement-breakpoint
CREATE INDEX "outbox_jobs_due_idx" ON "outbox_jobs" USING btree ("status","endpoint","run_after");--> statement-breakpoint
CREATE INDEX "outbox_jobs_push_open_idx" ON "outbox_jobs" USING btree ("endpoint","instance_id","change_position") WHERE "outbox_jobs"."change_position" IS NOT NULL AND "outbox_jobs"."status" IN ('pending', 'running', 'dead');--> statement-breakpoint
CREATE INDEX "token_handouts_instance_idx" ON "token_handouts" USING btree ("instance_id","requested_at");--> statement-breakpoint
CREATE INDEX "token_handouts_key_idx" ON "token_handouts" USING btree ("api_key_id","requested_at");--> statement-breakpoint
CREATE INDEX "token_handouts_time_idx" ON "token_handouts" USING btree ("requested_at");--> statement-breakpoint
CREATE INDEX "changes_instance_idx" ON "changes" USING btree ("instance_id","position");