-- PostgreSQL only: statistics on the name as the counter's search compares it (spaces of either width
-- removed, src/store/residents.ts). Without them the planner takes every `LIKE '%…%'` to match one resident
-- in two hundred and sorts all of a municipality's matches rather than read the search index (migration 072)
-- in order; with them a common part of a name (a frequent surname) is read in order and stops after the page,
-- and a rare one is looked up and sorted. Statistics on an expression need PostgreSQL 14.
DO $$
BEGIN
  IF current_setting('server_version_num')::int >= 140000 THEN
    EXECUTE $s$CREATE STATISTICS residents_search_name ON (REPLACE(REPLACE(name, ' ', ''), U&'\3000', '')) FROM residents$s$;
  END IF;
END
$$;
