-- Bulk register imports (`jpki register import`, issue 12): one row per import file, by the SHA-256 of its
-- bytes. Each batch of residents commits together with this row's new position, so a run that stops (killed,
-- a lost connection) leaves whole batches behind and the next run of the same file goes on after last_line.
CREATE TABLE register_imports (
  id           TEXT PRIMARY KEY,            -- sha256 of the file, hex
  source       TEXT NOT NULL,               -- the file name as given (for people: the hash identifies it)
  total_rows   INTEGER NOT NULL,            -- data rows in the file
  loaded_rows  INTEGER NOT NULL,            -- rows loaded so far
  last_line    INTEGER NOT NULL,            -- the last line of the file loaded (0: none yet)
  started_at   {{BIGINT}} NOT NULL,
  updated_at   {{BIGINT}} NOT NULL,
  finished_at  {{BIGINT}}                   -- set when every row is loaded
);
