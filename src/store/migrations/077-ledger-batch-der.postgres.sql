-- PostgreSQL only: the ledger batch of migration 033 with the certificates' DER as a bytea[] of its own
-- (ders[i] belongs to records[i]) instead of hex text inside the records' JSON (issue 12, third round). The
-- server's JSON lexer copied every character of a ~3 KB hex string: ~60 µs of server CPU per certificate,
-- measured with the extraction alone, against ~13 µs for all the other fields of both records. The 3-argument
-- function stays for processes of the previous version during an upgrade.
CREATE OR REPLACE FUNCTION jpki_ledger_apply(reserves jsonb, records jsonb, ders bytea[], now_ms bigint) RETURNS jsonb
LANGUAGE plpgsql AS $fn$
DECLARE
  reserved jsonb;
  stored jsonb;
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

  WITH input AS (
    SELECT r FROM jsonb_array_elements(records) AS t(r)
  ), adv AS (
    UPDATE ca_ledger l
       SET state = i.r->>'to',
           settled_at = CASE WHEN i.r->>'to' = 'confirmed' THEN now_ms ELSE l.settled_at END
      FROM input i
     WHERE l.id = (i.r->>'ledgerId')::bigint AND l.state = 'reserved'
    RETURNING l.id
  )
  SELECT coalesce(jsonb_agg(id), '[]'::jsonb) INTO stored FROM adv;

  IF jsonb_array_length(stored) > 0 THEN
    WITH kept AS (
      SELECT r, ord FROM jsonb_array_elements(records) WITH ORDINALITY AS t(r, ord)
       WHERE (r->>'ledgerId')::bigint IN (SELECT jsonb_array_elements_text(stored)::bigint)
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
       WHERE (r->>'ledgerId')::bigint IN (SELECT jsonb_array_elements_text(stored)::bigint)
       ORDER BY ord;
    -- only a batch that changed the status feed tells its followers (the feed is the only one listening)
    PERFORM pg_notify('jpki_changes', '');
  END IF;
  RETURN jsonb_build_object('reserved', reserved, 'stored', stored);
END
$fn$;
