CREATE TABLE `watch_progress` (
	`profile_id` text NOT NULL,
	`title_id` text NOT NULL,
	`episode_id` text,
	`position_sec` real NOT NULL,
	`duration_sec` real NOT NULL,
	`event_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`profile_id`, `title_id`),
	FOREIGN KEY (`profile_id`) REFERENCES `profiles`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`title_id`) REFERENCES `titles`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `watch_progress_recent` ON `watch_progress` (`profile_id`,`event_at`);--> statement-breakpoint
ALTER TABLE `assets` ADD `extras` text DEFAULT '{"subtitles":[],"thumbnailsVtt":null,"poster":null}' NOT NULL;