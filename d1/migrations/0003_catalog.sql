CREATE TABLE `credits` (
	`title_id` text NOT NULL,
	`person_id` text NOT NULL,
	`role` text NOT NULL,
	`character` text,
	`position` integer NOT NULL,
	PRIMARY KEY(`title_id`, `person_id`, `role`),
	FOREIGN KEY (`title_id`) REFERENCES `titles`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`person_id`) REFERENCES `people`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `credits_person` ON `credits` (`person_id`);--> statement-breakpoint
CREATE TABLE `people` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `versions` (
	`name` text PRIMARY KEY NOT NULL,
	`version` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `titles` ADD `maturity_level` integer DEFAULT 3 NOT NULL;--> statement-breakpoint
ALTER TABLE `titles` ADD `popularity` real DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `titles` ADD `poster_path` text;--> statement-breakpoint
ALTER TABLE `titles` ADD `available_from` integer;--> statement-breakpoint
ALTER TABLE `titles` ADD `available_until` integer;--> statement-breakpoint
CREATE INDEX `titles_popularity` ON `titles` (`popularity`,`id`);--> statement-breakpoint
CREATE INDEX `titles_newest` ON `titles` (`release_year`,`created_at`,`id`);