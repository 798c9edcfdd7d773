CREATE TABLE `cmcd_requests` (
	`id` text PRIMARY KEY NOT NULL,
	`sid` text,
	`stream_id` text NOT NULL,
	`asset_id` text NOT NULL,
	`at` integer NOT NULL,
	`object` text NOT NULL,
	`ot` text,
	`br` integer,
	`bl` integer,
	`mtp` integer,
	`d` integer,
	`su` integer,
	`bs` integer
);
--> statement-breakpoint
CREATE INDEX `cmcd_requests_sid` ON `cmcd_requests` (`sid`,`at`);--> statement-breakpoint
CREATE INDEX `cmcd_requests_stream` ON `cmcd_requests` (`stream_id`,`at`);--> statement-breakpoint
CREATE INDEX `cmcd_requests_at` ON `cmcd_requests` (`at`);--> statement-breakpoint
CREATE TABLE `qoe_minutes` (
	`minute` integer NOT NULL,
	`title_id` text NOT NULL,
	`country` text NOT NULL,
	`device` text NOT NULL,
	`plan_height` integer NOT NULL,
	`reports` integer DEFAULT 0 NOT NULL,
	`starts` integer DEFAULT 0 NOT NULL,
	`start_failures` integer DEFAULT 0 NOT NULL,
	`exits_before_video` integer DEFAULT 0 NOT NULL,
	`play_delay_ms_sum` integer DEFAULT 0 NOT NULL,
	`d0` integer DEFAULT 0 NOT NULL,
	`d1` integer DEFAULT 0 NOT NULL,
	`d2` integer DEFAULT 0 NOT NULL,
	`d3` integer DEFAULT 0 NOT NULL,
	`d4` integer DEFAULT 0 NOT NULL,
	`d5` integer DEFAULT 0 NOT NULL,
	`d6` integer DEFAULT 0 NOT NULL,
	`d7` integer DEFAULT 0 NOT NULL,
	`d8` integer DEFAULT 0 NOT NULL,
	`d9` integer DEFAULT 0 NOT NULL,
	`d10` integer DEFAULT 0 NOT NULL,
	`d11` integer DEFAULT 0 NOT NULL,
	`page_delay_ms_sum` integer DEFAULT 0 NOT NULL,
	`page_delays` integer DEFAULT 0 NOT NULL,
	`playing_ms` integer DEFAULT 0 NOT NULL,
	`stalls` integer DEFAULT 0 NOT NULL,
	`stall_ms` integer DEFAULT 0 NOT NULL,
	`switches` integer DEFAULT 0 NOT NULL,
	`kbps_ms` integer DEFAULT 0 NOT NULL,
	`ms_h0` integer DEFAULT 0 NOT NULL,
	`ms_h1` integer DEFAULT 0 NOT NULL,
	`ms_h2` integer DEFAULT 0 NOT NULL,
	`ms_h3` integer DEFAULT 0 NOT NULL,
	`ms_h4` integer DEFAULT 0 NOT NULL,
	`dropped_frames` integer DEFAULT 0 NOT NULL,
	`fatal_errors` integer DEFAULT 0 NOT NULL,
	`recovered_errors` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`minute`, `title_id`, `country`, `device`, `plan_height`)
);
--> statement-breakpoint
CREATE TABLE `qoe_reports` (
	`id` text PRIMARY KEY NOT NULL,
	`batch_tag` text NOT NULL,
	`received_at` integer NOT NULL,
	`minute` integer NOT NULL,
	`title_id` text NOT NULL,
	`country` text NOT NULL,
	`device` text NOT NULL,
	`plan_height` integer NOT NULL,
	`body` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `qoe_reports_batch` ON `qoe_reports` (`batch_tag`);--> statement-breakpoint
CREATE INDEX `qoe_reports_received` ON `qoe_reports` (`received_at`);