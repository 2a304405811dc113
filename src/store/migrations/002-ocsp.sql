-- The revocation status service: the change feed that OCSP responders and the CRL updater follow, the
-- delegated OCSP responder keys, and the pre-signed OCSP responses.
-- Shared by SQLite and PostgreSQL; {{BLOB}}, {{BIGINT}} and {{AUTOID}} are replaced per dialect.

-- One row per issuance or revocation, written in the transaction that makes the change. Ids increase in
-- commit order (PostgreSQL writers take an advisory lock first), so a follower reads `id > last seen`.
CREATE TABLE certificate_status_changes (
  id            {{AUTOID}},
  ca_id         TEXT NOT NULL,
  serial        TEXT NOT NULL,
  status        TEXT NOT NULL,                 -- issued | revoked
  crl_partition TEXT,                          -- the certificate's CRL partition (municipality), if any
  at            {{BIGINT}} NOT NULL
);
CREATE INDEX certificate_status_changes_at ON certificate_status_changes (at);

-- The delegated OCSP responder of each CA: the certificate (a certificates row of kind 'ocsp') and its key.
CREATE TABLE ocsp_responders (
  ca_id      TEXT NOT NULL REFERENCES certificate_authorities(id),
  serial     TEXT NOT NULL,
  key_uri    TEXT NOT NULL,
  not_before {{BIGINT}} NOT NULL,
  not_after  {{BIGINT}} NOT NULL,
  created_at {{BIGINT}} NOT NULL,
  PRIMARY KEY (ca_id, serial)
);

-- Signed OCSP responses for one certificate, one per CertID hash algorithm (sha1, sha256, …).
CREATE TABLE ocsp_responses (
  ca_id          TEXT NOT NULL,
  serial         TEXT NOT NULL,
  hash_algorithm TEXT NOT NULL,
  cert_id        {{BLOB}} NOT NULL,            -- the CertID DER the response answers
  cert_status    TEXT NOT NULL,                -- good | revoked
  this_update    {{BIGINT}} NOT NULL,
  next_update    {{BIGINT}} NOT NULL,
  der            {{BLOB}} NOT NULL,            -- the complete OCSPResponse
  PRIMARY KEY (ca_id, serial, hash_algorithm)
);
CREATE INDEX ocsp_responses_next_update ON ocsp_responses (next_update);

-- Partition CRLs and their deltas stream one municipality's revoked certificates in (revoked_at, id) order;
-- the CRL updater lists the partitions of a CA.
CREATE INDEX certificates_partition ON certificates (ca_id, crl_partition, revoked_at, id);
