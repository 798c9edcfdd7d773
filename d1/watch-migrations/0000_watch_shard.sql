CREATE TABLE `counted_plays` (
	`day` text NOT NULL,
	`profile_id` text NOT NULL,
	`title_id` text NOT NULL,
	`country` text NOT NULL,
	`batch_tag` text NOT NULL,
	PRIMARY KEY(`day`, `profile_id`, `title_id`)
);
--> statement-breakpoint
CREATE INDEX `counted_plays_batch` ON `counted_plays` (`batch_tag`);--> statement-breakpoint
CREATE TABLE `counter_outbox` (
	`batch_tag` text NOT NULL,
	`kind` text NOT NULL,
	`a` text NOT NULL,
	`b` text NOT NULL,
	`c` text NOT NULL,
	`delta` integer NOT NULL,
	PRIMARY KEY(`batch_tag`, `kind`, `a`, `b`, `c`)
);
--> statement-breakpoint
CREATE TABLE `profile_recent_titles` (
	`profile_id` text NOT NULL,
	`title_id` text NOT NULL,
	`last_at` integer NOT NULL,
	PRIMARY KEY(`profile_id`, `title_id`)
);
--> statement-breakpoint
CREATE INDEX `profile_recent_titles_last` ON `profile_recent_titles` (`profile_id`,`last_at`);--> statement-breakpoint
CREATE TABLE `watch_events` (
	`profile_id` text NOT NULL,
	`event_id` text NOT NULL,
	`batch_tag` text NOT NULL,
	`account_id` text NOT NULL,
	`type` text NOT NULL,
	`playback_session_id` text NOT NULL,
	`title_id` text NOT NULL,
	`episode_id` text,
	`position_sec` real NOT NULL,
	`duration_sec` real NOT NULL,
	`client_at` integer NOT NULL,
	`received_at` integer NOT NULL,
	`day` text NOT NULL,
	`country` text NOT NULL,
	`rendition` text,
	`rebuffer_ms` integer,
	PRIMARY KEY(`profile_id`, `event_id`)
);
--> statement-breakpoint
CREATE INDEX `watch_events_batch` ON `watch_events` (`batch_tag`,`profile_id`,`title_id`);--> statement-breakpoint
CREATE INDEX `watch_events_received` ON `watch_events` (`received_at`);--> statement-breakpoint
CREATE TABLE `watch_history` (
	`profile_id` text NOT NULL,
	`title_id` text NOT NULL,
	`episode_key` text NOT NULL,
	`episode_id` text,
	`finished_at` integer NOT NULL,
	PRIMARY KEY(`profile_id`, `title_id`, `episode_key`)
);
--> statement-breakpoint
CREATE INDEX `watch_history_recent` ON `watch_history` (`profile_id`,`finished_at`);--> statement-breakpoint
CREATE TABLE `watch_progress` (
	`profile_id` text NOT NULL,
	`title_id` text NOT NULL,
	`episode_id` text,
	`position_sec` real NOT NULL,
	`duration_sec` real NOT NULL,
	`completed` integer DEFAULT false NOT NULL,
	`event_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`profile_id`, `title_id`)
);
--> statement-breakpoint
CREATE INDEX `watch_progress_recent` ON `watch_progress` (`profile_id`,`event_at`);