CREATE TABLE `profile_list` (
	`profile_id` text NOT NULL,
	`title_id` text NOT NULL,
	`added_at` integer NOT NULL,
	PRIMARY KEY(`profile_id`, `title_id`),
	FOREIGN KEY (`profile_id`) REFERENCES `profiles`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`title_id`) REFERENCES `titles`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `profile_list_recent` ON `profile_list` (`profile_id`,`added_at`);--> statement-breakpoint
CREATE TABLE `profile_ratings` (
	`profile_id` text NOT NULL,
	`title_id` text NOT NULL,
	`rating` integer NOT NULL,
	`rated_at` integer NOT NULL,
	PRIMARY KEY(`profile_id`, `title_id`),
	FOREIGN KEY (`profile_id`) REFERENCES `profiles`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`title_id`) REFERENCES `titles`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `profile_ratings_recent` ON `profile_ratings` (`profile_id`,`rating`,`rated_at`);--> statement-breakpoint
CREATE TABLE `title_stats` (
	`title_id` text PRIMARY KEY NOT NULL,
	`viewers` integer NOT NULL
);
