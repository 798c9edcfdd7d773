CREATE TABLE `asset_replicas` (
	`asset_id` text NOT NULL,
	`pathway` text NOT NULL,
	`files_done` integer NOT NULL,
	`files_total` integer NOT NULL,
	`bytes_done` integer NOT NULL,
	`completed_at` integer,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`asset_id`, `pathway`),
	FOREIGN KEY (`asset_id`) REFERENCES `assets`(`id`) ON UPDATE no action ON DELETE cascade
);
