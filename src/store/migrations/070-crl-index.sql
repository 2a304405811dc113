-- CRLs of millions of entries (docs/crl.md, "Reading the store"): an index of the revoked certificates only,
-- in the order a CRL lists them (revoked_at, id) and holding every column a CRL reads, so that a page of a
-- CRL is one range of this index and never touches the table (an index-only scan on PostgreSQL, a covering
-- index on SQLite). Certificates that are not revoked, nearly all of them, are not in it.
-- It replaces migration 001's (ca_id, revoked_at) index of every certificate, on which PostgreSQL could not
-- continue a page after (revoked_at, id) without sorting all the revoked entries after it, page after page.
CREATE INDEX certificates_crl ON certificates (ca_id, revoked_at, id, not_after, serial, revocation_reason) WHERE revoked_at IS NOT NULL;
DROP INDEX certificates_revoked;
