-- Full-text search over titles (workers/api/catalog/search*.ts). Hand-written: drizzle-kit
-- cannot express FTS5 tables or triggers, so none of this is in d1/schema.ts.
--
-- titles_fts_keys gives each title a stable INTEGER key that both FTS tables use as their
-- rowid: titles has a text primary key, and its implicit rowid may change on VACUUM or a
-- dump/restore, while deleting from an FTS5 table by an UNINDEXED column scans the table.
CREATE TABLE `titles_fts_keys` (
	`id` integer PRIMARY KEY NOT NULL,
	`title_id` text NOT NULL UNIQUE
);
--> statement-breakpoint
-- Words: name, synopsis and cast/crew names; case- and accent-insensitive, with prefix
-- indexes so the last word of a query matches as it is typed.
CREATE VIRTUAL TABLE `titles_fts` USING fts5(
	name, synopsis, people,
	tokenize = 'unicode61 remove_diacritics 2',
	prefix = '2 3 4'
);
--> statement-breakpoint
-- Trigrams of names only: the typo-tolerant fallback counts the query's trigrams found here.
CREATE VIRTUAL TABLE `titles_trigram` USING fts5(
	name,
	tokenize = 'trigram remove_diacritics 1'
);
--> statement-breakpoint
-- Triggers keep both tables in step with every writer (admin CRUD, bulk import, seeding,
-- plain SQL), so no code path can forget. Each rebuild is delete + insert of one row:
-- FTS5 has no cheap partial update, and the INSERT ... SELECT from titles inserts nothing
-- when the title is gone (a credit deleted by the cascade of a title's delete).
CREATE TRIGGER `titles_fts_ai` AFTER INSERT ON `titles` BEGIN
	INSERT OR IGNORE INTO titles_fts_keys(title_id) VALUES (new.id);
	DELETE FROM titles_fts WHERE rowid = (SELECT id FROM titles_fts_keys WHERE title_id = new.id);
	DELETE FROM titles_trigram WHERE rowid = (SELECT id FROM titles_fts_keys WHERE title_id = new.id);
	INSERT INTO titles_fts(rowid, name, synopsis, people)
		SELECT k.id, t.name, t.synopsis, coalesce((SELECT group_concat(p.name, ' ') FROM people p WHERE p.id IN (SELECT c.person_id FROM credits c WHERE c.title_id = t.id)), '')
		FROM titles t JOIN titles_fts_keys k ON k.title_id = t.id WHERE t.id = new.id;
	INSERT INTO titles_trigram(rowid, name) SELECT id, new.name FROM titles_fts_keys WHERE title_id = new.id;
END;
--> statement-breakpoint
CREATE TRIGGER `titles_fts_au` AFTER UPDATE OF name, synopsis ON `titles`
WHEN old.name IS NOT new.name OR old.synopsis IS NOT new.synopsis BEGIN
	DELETE FROM titles_fts WHERE rowid = (SELECT id FROM titles_fts_keys WHERE title_id = new.id);
	INSERT INTO titles_fts(rowid, name, synopsis, people)
		SELECT k.id, t.name, t.synopsis, coalesce((SELECT group_concat(p.name, ' ') FROM people p WHERE p.id IN (SELECT c.person_id FROM credits c WHERE c.title_id = t.id)), '')
		FROM titles t JOIN titles_fts_keys k ON k.title_id = t.id WHERE t.id = new.id;
	DELETE FROM titles_trigram WHERE rowid = (SELECT id FROM titles_fts_keys WHERE title_id = new.id);
	INSERT INTO titles_trigram(rowid, name) SELECT id, new.name FROM titles_fts_keys WHERE title_id = new.id;
END;
--> statement-breakpoint
CREATE TRIGGER `titles_fts_ad` AFTER DELETE ON `titles` BEGIN
	DELETE FROM titles_fts WHERE rowid = (SELECT id FROM titles_fts_keys WHERE title_id = old.id);
	DELETE FROM titles_trigram WHERE rowid = (SELECT id FROM titles_fts_keys WHERE title_id = old.id);
	DELETE FROM titles_fts_keys WHERE title_id = old.id;
END;
--> statement-breakpoint
CREATE TRIGGER `credits_fts_ai` AFTER INSERT ON `credits` BEGIN
	DELETE FROM titles_fts WHERE rowid = (SELECT id FROM titles_fts_keys WHERE title_id = new.title_id);
	INSERT INTO titles_fts(rowid, name, synopsis, people)
		SELECT k.id, t.name, t.synopsis, coalesce((SELECT group_concat(p.name, ' ') FROM people p WHERE p.id IN (SELECT c.person_id FROM credits c WHERE c.title_id = t.id)), '')
		FROM titles t JOIN titles_fts_keys k ON k.title_id = t.id WHERE t.id = new.title_id;
END;
--> statement-breakpoint
CREATE TRIGGER `credits_fts_ad` AFTER DELETE ON `credits` BEGIN
	DELETE FROM titles_fts WHERE rowid = (SELECT id FROM titles_fts_keys WHERE title_id = old.title_id);
	INSERT INTO titles_fts(rowid, name, synopsis, people)
		SELECT k.id, t.name, t.synopsis, coalesce((SELECT group_concat(p.name, ' ') FROM people p WHERE p.id IN (SELECT c.person_id FROM credits c WHERE c.title_id = t.id)), '')
		FROM titles t JOIN titles_fts_keys k ON k.title_id = t.id WHERE t.id = old.title_id;
END;
--> statement-breakpoint
CREATE TRIGGER `credits_fts_au` AFTER UPDATE OF title_id, person_id ON `credits` BEGIN
	DELETE FROM titles_fts WHERE rowid IN (SELECT id FROM titles_fts_keys WHERE title_id IN (old.title_id, new.title_id));
	INSERT INTO titles_fts(rowid, name, synopsis, people)
		SELECT k.id, t.name, t.synopsis, coalesce((SELECT group_concat(p.name, ' ') FROM people p WHERE p.id IN (SELECT c.person_id FROM credits c WHERE c.title_id = t.id)), '')
		FROM titles t JOIN titles_fts_keys k ON k.title_id = t.id WHERE t.id IN (old.title_id, new.title_id);
END;
--> statement-breakpoint
CREATE TRIGGER `people_fts_au` AFTER UPDATE OF name ON `people` WHEN old.name IS NOT new.name BEGIN
	DELETE FROM titles_fts WHERE rowid IN (SELECT k.id FROM titles_fts_keys k JOIN credits c ON c.title_id = k.title_id WHERE c.person_id = new.id);
	INSERT INTO titles_fts(rowid, name, synopsis, people)
		SELECT k.id, t.name, t.synopsis, coalesce((SELECT group_concat(p.name, ' ') FROM people p WHERE p.id IN (SELECT c.person_id FROM credits c WHERE c.title_id = t.id)), '')
		FROM titles t JOIN titles_fts_keys k ON k.title_id = t.id WHERE t.id IN (SELECT title_id FROM credits WHERE person_id = new.id);
END;
--> statement-breakpoint
-- Index the titles that exist before this migration.
INSERT OR IGNORE INTO titles_fts_keys(title_id) SELECT id FROM titles ORDER BY created_at, id;
--> statement-breakpoint
INSERT INTO titles_fts(rowid, name, synopsis, people)
	SELECT k.id, t.name, t.synopsis, coalesce((SELECT group_concat(p.name, ' ') FROM people p WHERE p.id IN (SELECT c.person_id FROM credits c WHERE c.title_id = t.id)), '')
	FROM titles t JOIN titles_fts_keys k ON k.title_id = t.id;
--> statement-breakpoint
INSERT INTO titles_trigram(rowid, name) SELECT k.id, t.name FROM titles t JOIN titles_fts_keys k ON k.title_id = t.id;
