-- The CA core: the authorities, every certificate they issued, their CRLs, the audit chain.
-- Shared by SQLite and PostgreSQL; {{BLOB}}, {{BIGINT}} and {{AUTOID}} are replaced per dialect.

CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE certificate_authorities (
  id                  TEXT PRIMARY KEY,          -- 'pref-13', 'jpki-bridge', 'gpki-bridge', 'agency-mic'
  kind                TEXT NOT NULL,             -- prefectural | jpki-bridge | gpki-bridge | agency
  prefecture          TEXT,                      -- JIS code '01'..'47' for prefectural CAs
  name                TEXT NOT NULL,             -- display name, e.g. 東京都知事
  name_en             TEXT NOT NULL,
  subject             {{BLOB}} NOT NULL,         -- DER Name
  key_id              {{BLOB}} NOT NULL,         -- subject key identifier
  key_uri             TEXT NOT NULL,             -- soft:… or pkcs11:…
  signature_algorithm TEXT NOT NULL,
  certificate         {{BLOB}} NOT NULL,         -- the self-signed certificate
  not_before          {{BIGINT}} NOT NULL,
  not_after           {{BIGINT}} NOT NULL,
  crl_number          {{BIGINT}} NOT NULL DEFAULT 0,  -- the last cRLNumber issued (one sequence per CA)
  created_at          {{BIGINT}} NOT NULL
);

CREATE TABLE certificates (
  id                {{AUTOID}},
  ca_id             TEXT NOT NULL REFERENCES certificate_authorities(id),
  serial            TEXT NOT NULL,               -- lower-case hex of the positive serial number
  kind              TEXT NOT NULL,               -- sign | auth | cross | ocsp
  subject_ca_id     TEXT,                        -- cross-certificates: the CA certified
  resident_id       TEXT,                        -- resident certificates: the register's resident
  card_id           TEXT,                        -- resident certificates: the card holding the key
  crl_partition     TEXT,                        -- resident certificates: municipality code (partitioned CRLs)
  not_before        {{BIGINT}} NOT NULL,
  not_after         {{BIGINT}} NOT NULL,
  issued_at         {{BIGINT}} NOT NULL,
  der               {{BLOB}} NOT NULL,
  revoked_at        {{BIGINT}},
  revocation_reason INTEGER,
  UNIQUE (ca_id, serial)
);
CREATE INDEX certificates_revoked ON certificates (ca_id, revoked_at);
CREATE INDEX certificates_resident ON certificates (resident_id);

CREATE TABLE crls (
  ca_id           TEXT NOT NULL REFERENCES certificate_authorities(id),
  scope           TEXT NOT NULL,                 -- 'full', 'delta', 'arl', 'm:<municipality>' …
  crl_number      {{BIGINT}} NOT NULL,
  base_crl_number {{BIGINT}},                    -- delta CRLs: the base they apply to
  this_update     {{BIGINT}} NOT NULL,
  next_update     {{BIGINT}} NOT NULL,
  entries         {{BIGINT}} NOT NULL,
  der             {{BLOB}} NOT NULL,
  PRIMARY KEY (ca_id, scope)
);

CREATE TABLE audit_log (
  seq       {{BIGINT}} PRIMARY KEY,
  at        {{BIGINT}} NOT NULL,
  actor     TEXT NOT NULL,
  action    TEXT NOT NULL,
  target    TEXT NOT NULL,
  details   TEXT NOT NULL,                       -- canonical JSON
  prev_hash TEXT NOT NULL,
  hash      TEXT NOT NULL
);
