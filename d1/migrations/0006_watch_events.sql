CREATE TABLE `co_watch` (
	`title_id` text NOT NULL,
	`other_title_id` text NOT NULL,
	`count` integer NOT NULL,
	PRIMARY KEY(`title_id`, `other_title_id`)
);
--> statement-breakpoint
CREATE INDEX `co_watch_top` ON `co_watch` (`title_id`,`count`);--> statement-breakpoint
CREATE TABLE `dead_letters` (
	`id` text PRIMARY KEY NOT NULL,
	`body` text NOT NULL,
	`reason` text NOT NULL,
	`attempts` integer NOT NULL,
	`received_at` integer NOT NULL
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
CREATE TABLE `title_plays_daily` (
	`day` text NOT NULL,
	`country` text NOT NULL,
	`title_id` text NOT NULL,
	`plays` integer NOT NULL,
	PRIMARY KEY(`day`, `country`, `title_id`)
);
--> statement-breakpoint
CREATE INDEX `title_plays_daily_rank` ON `title_plays_daily` (`day`,`country`,`plays`);--> statement-breakpoint
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
	PRIMARY KEY(`profile_id`, `title_id`, `episode_key`),
	FOREIGN KEY (`profile_id`) REFERENCES `profiles`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`title_id`) REFERENCES `titles`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `watch_history_recent` ON `watch_history` (`profile_id`,`finished_at`);--> statement-breakpoint
ALTER TABLE `watch_progress` ADD `completed` integer DEFAULT false NOT NULL;