-- The CA's ledger (docs/ca.md, "The ledger and the issuance cycle"): nothing is signed whose serial, TBS hash
-- and purpose are not recorded here first. One row per certificate or CRL signature, through
-- reserved → signed → confirmed, or → abandoned. A serial is unique per CA across every certificate the CA
-- ever reserved, signed or not. Shared by SQLite and PostgreSQL.

CREATE TABLE ca_ledger (
  id          {{AUTOID}},
  ca_id       TEXT NOT NULL,
  kind        TEXT NOT NULL,                 -- certificate | crl
  serial      TEXT NOT NULL,                 -- certificates: lower-case hex serial, CRLs: the cRLNumber
  purpose     TEXT NOT NULL,                 -- sign | auth | cross | ocsp | ca | crl:<scope>
  subject     TEXT,                          -- whom it is for: resident:<id>/card:<id>, a CA id, …
  tbs_hash    TEXT NOT NULL,                 -- hex SHA-256 of the TBSCertificate / TBSCertList to be signed
  state       TEXT NOT NULL,                 -- reserved | signed | confirmed | abandoned
  actor       TEXT NOT NULL,
  reserved_at {{BIGINT}} NOT NULL,
  deadline    {{BIGINT}} NOT NULL,           -- unconfirmed after this: the sweeper revokes or abandons it
  settled_at  {{BIGINT}},                    -- when it was confirmed or abandoned
  UNIQUE (ca_id, kind, serial)
);
-- The sweeper looks for open entries past their deadline.
CREATE INDEX ca_ledger_open ON ca_ledger (state, deadline);

-- Every certificate stored before the ledger existed is confirmed (its TBS hash is unknown: empty).
INSERT INTO ca_ledger (ca_id, kind, serial, purpose, subject, tbs_hash, state, actor, reserved_at, deadline, settled_at)
  SELECT ca_id, 'certificate', serial, kind, NULL, '', 'confirmed', 'migration', issued_at, issued_at, issued_at FROM certificates;

-- The audit inbox: a state change appends its audit record here in its own transaction (no lock, no read of
-- the chain head); one writer at a time moves committed records into the hash chain in batches.
CREATE TABLE audit_inbox (
  id      {{AUTOID}},
  at      {{BIGINT}} NOT NULL,
  actor   TEXT NOT NULL,
  action  TEXT NOT NULL,
  target  TEXT NOT NULL,
  details TEXT NOT NULL
);

-- Signed checkpoints of the chain head: (seq, hash of record seq) signed with the audit key.
CREATE TABLE audit_checkpoints (
  seq        {{BIGINT}} PRIMARY KEY,
  head_hash  TEXT NOT NULL,
  at         {{BIGINT}} NOT NULL,
  key_id     TEXT NOT NULL,                  -- hex SHA-256 of the audit key's SubjectPublicKeyInfo
  algorithm  TEXT NOT NULL,
  signature  {{BLOB}} NOT NULL
);

-- The register's change events as the CA handled them (exactly once): what each one revoked.
CREATE TABLE ca_register_events (
  event_id    {{BIGINT}} PRIMARY KEY,
  resident_id TEXT NOT NULL,
  handled_at  {{BIGINT}} NOT NULL,
  revoked     TEXT NOT NULL                  -- JSON list of {kind, caId, serial, reason, reasonCode}
);
