CREATE TABLE `counter_folds` (
	`shard` integer NOT NULL,
	`batch_tag` text NOT NULL,
	`attempt` text NOT NULL,
	`folded_at` integer NOT NULL,
	PRIMARY KEY(`shard`, `batch_tag`)
);
--> statement-breakpoint
CREATE INDEX `counter_folds_at` ON `counter_folds` (`folded_at`);