-- Login lock-out with time-based back-off (issue 10, hole 1). An attempt is counted before its password hash
-- is checked; the attempt that reaches the limit locks the account until locked_until, for a time that
-- doubles with each lock-out since the last successful login (lockouts), up to a cap. A lock ends by itself.
ALTER TABLE counter_operators ADD COLUMN locked_until {{BIGINT}};
ALTER TABLE counter_operators ADD COLUMN lockouts INTEGER NOT NULL DEFAULT 0;
-- Accounts locked for good under the old rule get the first back-off step from when they were locked.
UPDATE counter_operators SET locked_until = locked_at + 60000, lockouts = 1 WHERE locked_at IS NOT NULL;
