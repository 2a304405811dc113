-- The sweeper's index of open ledger entries holds the open ones only (issue 12). Migration 030 indexed every
-- entry by (state, deadline): confirming an issuance moved its entry within the index, where it stayed for
-- good among every settled entry of all time (one more index insert per issuance, and an index as large as
-- the ledger). Now a settled entry (confirmed, abandoned) leaves the index, which stays the size of the work
-- in progress. The sweeper's query names the same states; SQLite uses a partial index for an IN list only
-- when the list's column leads the index, hence (state, deadline).
DROP INDEX ca_ledger_open;
CREATE INDEX ca_ledger_open ON ca_ledger (state, deadline) WHERE state IN ('reserved', 'signed');
