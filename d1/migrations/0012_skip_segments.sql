CREATE TABLE `skip_segments` (
	`asset_id` text NOT NULL,
	`kind` text NOT NULL,
	`start_ms` integer NOT NULL,
	`end_ms` integer NOT NULL,
	`source` text NOT NULL,
	`confidence` real NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`asset_id`, `kind`),
	FOREIGN KEY (`asset_id`) REFERENCES `assets`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
ALTER TABLE `profiles` ADD `auto_skip_intros` integer DEFAULT false NOT NULL;