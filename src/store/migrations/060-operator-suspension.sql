-- A supervisor locks an operator's account (issue 11, the counter terminal's operator management): unlike a
-- lock-out after failed logins, which ends by itself, a suspension lasts until a supervisor unlocks it;
-- logins are refused and the operator's open sessions end.
ALTER TABLE counter_operators ADD COLUMN suspended_at {{BIGINT}};
