CREATE TABLE `counted_plays` (
	`day` text NOT NULL,
	`profile_id` text NOT NULL,
	`title_id` text NOT NULL,
	`country` text NOT NULL,
	`batch_tag` text NOT NULL,
	PRIMARY KEY(`day`, `profile_id`, `title_id`)
);
--> statement-breakpoint
CREATE INDEX `counted_plays_batch` ON `counted_plays` (`batch_tag`);