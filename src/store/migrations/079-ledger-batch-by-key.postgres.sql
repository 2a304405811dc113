-- PostgreSQL only: the ledger batch of migration 077, with its signed entries moved on from 'reserved' one at
-- a time by primary key (issue 12, seventh round). 077 moved them in one UPDATE … FROM the batch's records
-- WHERE id = … AND state = 'reserved', for which the planner chose a bitmap scan of the open-entries index
-- on state = 'reserved', hashed against the batch: every entry ever reserved left a dead 'reserved' entry
-- in that index until a VACUUM, so each batch read them all — 20,205 of them, 4.5 ms a batch, after 40,000
-- issuances on a server whose autovacuum was off, and the server's CPU per issuance doubled within a
-- minute. An UPDATE by the whole primary key is an index lookup of one entry whatever the statistics say
-- (~10 per batch, each a cached plan inside this function).
CREATE OR REPLACE FUNCTION jpki_ledger_apply(reserves jsonb, records jsonb, ders bytea[], now_ms bigint) RETURNS jsonb
LANGUAGE plpgsql AS $fn$
DECLARE
  reserved jsonb;
  moved bigint[] := '{}';
  rec record;
BEGIN
  WITH input AS (
    SELECT r, ord FROM jsonb_array_elements(reserves) WITH ORDINALITY AS t(r, ord)
  ), ins AS (
    INSERT INTO ca_ledger (ca_id, kind, serial, purpose, subject, tbs_hash, state, actor, reserved_at, deadline)
    SELECT r->>'caId', r->>'kind', r->>'serial', r->>'purpose', r->>'subject', r->>'tbsHash', 'reserved', r->>'actor',
           (r->>'reservedAt')::bigint, (r->>'deadline')::bigint
      FROM input ORDER BY ord
    ON CONFLICT (ca_id, kind, serial) DO NOTHING
    RETURNING id, ca_id, kind, serial
  ), aud AS (
    INSERT INTO audit_inbox (at, actor, action, target, details)
    SELECT now_ms, i.r->'audit'->>'actor', i.r->'audit'->>'action', i.r->'audit'->>'target', i.r->'audit'->>'details'
      FROM input i JOIN ins ON ins.ca_id = i.r->>'caId' AND ins.kind = i.r->>'kind' AND ins.serial = i.r->>'serial'
     ORDER BY i.ord
  )
  SELECT coalesce(jsonb_agg(jsonb_build_array(id, ca_id, kind, serial)), '[]'::jsonb) INTO reserved FROM ins;

  -- one entry at a time, by its primary key: see the header
  FOR rec IN SELECT (r->>'ledgerId')::bigint AS id, r->>'to' AS next_state FROM jsonb_array_elements(records) AS t(r) LOOP
    UPDATE ca_ledger
       SET state = rec.next_state,
           settled_at = CASE WHEN rec.next_state = 'confirmed' THEN now_ms ELSE settled_at END
     WHERE id = rec.id AND state = 'reserved';
    IF FOUND THEN
      moved := moved || rec.id;
    END IF;
  END LOOP;

  IF cardinality(moved) > 0 THEN
    WITH kept AS (
      SELECT r, ord FROM jsonb_array_elements(records) WITH ORDINALITY AS t(r, ord)
       WHERE (r->>'ledgerId')::bigint = ANY (moved)
    ), certs AS (
      INSERT INTO certificates (ca_id, serial, kind, subject_ca_id, resident_id, card_id, crl_partition, not_before, not_after, issued_at, der)
      SELECT r->'cert'->>'caId', r->'cert'->>'serial', r->'cert'->>'kind', r->'cert'->>'subjectCaId', r->'cert'->>'residentId',
             r->'cert'->>'cardId', r->'cert'->>'crlPartition', (r->'cert'->>'notBefore')::bigint, (r->'cert'->>'notAfter')::bigint,
             (r->'cert'->>'issuedAt')::bigint, ders[ord]
        FROM kept ORDER BY ord
    )
    INSERT INTO audit_inbox (at, actor, action, target, details)
      SELECT now_ms, r->'audit'->>'actor', r->'audit'->>'action', r->'audit'->>'target', r->'audit'->>'details' FROM kept ORDER BY ord;
    -- The status feed last: ids in commit order (see status-changes.ts), so its lock comes before the ids are
    -- drawn — and is held from here to the end of the commit only, not across the certificates' inserts.
    PERFORM pg_advisory_xact_lock(4242005);
    INSERT INTO certificate_status_changes (ca_id, serial, status, crl_partition, at)
      SELECT r->'cert'->>'caId', r->'cert'->>'serial', 'issued', r->'cert'->>'crlPartition', now_ms
        FROM jsonb_array_elements(records) WITH ORDINALITY AS t(r, ord)
       WHERE (r->>'ledgerId')::bigint = ANY (moved)
       ORDER BY ord;
    -- only a batch that changed the status feed tells its followers (the feed is the only one listening)
    PERFORM pg_notify('jpki_changes', '');
  END IF;
  RETURN jsonb_build_object('reserved', reserved, 'stored', to_jsonb(moved));
END
$fn$;
