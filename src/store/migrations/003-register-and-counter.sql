-- The Basic Resident Register and the municipal counter (registration authority).
-- Shared by SQLite and PostgreSQL. {{BLOB}}, {{BIGINT}} and {{AUTOID}} are replaced per dialect.

-- The current state of each resident. Every change is an event below, and the row keeps the version of the
-- last one: an update names the version it read, so two concurrent changes cannot both win.
CREATE TABLE residents (
  id                 TEXT PRIMARY KEY,           -- opaque, stable id (what certificates.resident_id holds)
  record_code        TEXT NOT NULL UNIQUE,       -- 住民票コード: 11 digits, the last one a check digit
  name               TEXT NOT NULL,              -- surname U+3000 given name
  name_substitute    TEXT NOT NULL,              -- one 0/1 per character of the name
  address            TEXT NOT NULL,              -- from the prefecture on
  address_substitute TEXT NOT NULL,
  date_of_birth      TEXT NOT NULL,              -- YYYY-MM-DD (Gregorian)
  sex                TEXT NOT NULL,              -- 1 male, 2 female
  municipality       TEXT NOT NULL,              -- JIS local-government code, 5 digits (13103 = 港区)
  prefecture         TEXT NOT NULL,              -- JIS prefecture code, 2 digits
  status             TEXT NOT NULL,              -- registered | deceased
  version            INTEGER NOT NULL,           -- the version of the last event
  registered_at      {{BIGINT}} NOT NULL,
  updated_at         {{BIGINT}} NOT NULL
);
CREATE INDEX residents_municipality ON residents (municipality, name);

-- Register events: kept, never overwritten. before/after are the resident's state around the event.
CREATE TABLE resident_events (
  id           {{AUTOID}},
  resident_id  TEXT NOT NULL REFERENCES residents(id),
  version      INTEGER NOT NULL,                 -- the resident's version after the event
  type         TEXT NOT NULL,                    -- registered | move | rename | correction | death
  effective_on TEXT NOT NULL,                    -- YYYY-MM-DD the change took effect
  recorded_at  {{BIGINT}} NOT NULL,
  actor        TEXT NOT NULL,
  before_state TEXT,                             -- JSON, null for 'registered'
  after_state  TEXT NOT NULL,                    -- JSON
  details      TEXT NOT NULL,                    -- JSON: move scope, reason, certificates revoked
  UNIQUE (resident_id, version)
);

-- Counter staff. A password is stored only as an scrypt hash. failed_logins counts consecutive failures
-- and locked_at is set when they reach the limit (a supervisor or the CLI unlocks).
CREATE TABLE counter_operators (
  id            TEXT PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE,
  municipality  TEXT NOT NULL,
  role          TEXT NOT NULL,                   -- clerk | supervisor
  language      TEXT NOT NULL,                   -- ja | en | ko
  password_hash TEXT NOT NULL,
  failed_logins INTEGER NOT NULL DEFAULT 0,
  locked_at     {{BIGINT}},
  created_at    {{BIGINT}} NOT NULL,
  updated_at    {{BIGINT}} NOT NULL
);

-- Sessions of the web counter terminal. Only the SHA-256 of the token is kept.
CREATE TABLE counter_sessions (
  token_hash   TEXT PRIMARY KEY,
  operator_id  TEXT NOT NULL REFERENCES counter_operators(id),
  csrf_token   TEXT NOT NULL,
  created_at   {{BIGINT}} NOT NULL,
  last_seen_at {{BIGINT}} NOT NULL,
  expires_at   {{BIGINT}} NOT NULL,
  ended_at     {{BIGINT}}
);
CREATE INDEX counter_sessions_operator ON counter_sessions (operator_id);

-- Key-pair generation devices installed at a municipality's counter: where the card is reached.
CREATE TABLE counter_devices (
  id           TEXT PRIMARY KEY,                 -- e.g. 13103-1
  municipality TEXT NOT NULL,
  name         TEXT NOT NULL,
  uri          TEXT NOT NULL,                    -- file:<card image> | pcsc:<reader name>
  created_at   {{BIGINT}} NOT NULL
);

-- Applications taken at the counter. An issuance moves through steps (identity, fee, device) and is
-- completed in the transaction that stores its certificates. The others are completed when submitted.
CREATE TABLE counter_applications (
  id                 {{AUTOID}},
  number             TEXT NOT NULL UNIQUE,       -- A-13103-2026-000001
  kind               TEXT NOT NULL,              -- issuance | revocation | pin-change | pin-reset | pin-unlock
  municipality       TEXT NOT NULL,
  resident_id        TEXT NOT NULL REFERENCES residents(id),
  operator_id        TEXT NOT NULL REFERENCES counter_operators(id),
  status             TEXT NOT NULL,              -- open | completed | cancelled
  step               TEXT NOT NULL,              -- identity | fee | device | done
  form               TEXT NOT NULL,              -- JSON: the form fields as written by the resident
  identity_type      TEXT,                       -- the photo ID shown
  identity_number    TEXT,
  fee                INTEGER NOT NULL DEFAULT 0, -- yen accepted
  result             TEXT,                       -- JSON: what was done (serials, numbers)
  device_lease_until {{BIGINT}},                 -- a device session is running for it until then
  created_at         {{BIGINT}} NOT NULL,
  updated_at         {{BIGINT}} NOT NULL,
  completed_at       {{BIGINT}}
);
CREATE INDEX counter_applications_day ON counter_applications (municipality, created_at);
CREATE INDEX counter_applications_resident ON counter_applications (resident_id);

-- Numbered papers handed to the resident: receipts (領収書) and notices (受理通知書 and PIN-service notices).
CREATE TABLE counter_documents (
  number         TEXT PRIMARY KEY,               -- R-13103-2026-000001 / N-13103-2026-000001
  type           TEXT NOT NULL,                  -- receipt | notice
  application_id {{BIGINT}} NOT NULL REFERENCES counter_applications(id),
  municipality   TEXT NOT NULL,
  resident_id    TEXT NOT NULL REFERENCES residents(id),
  operator_id    TEXT NOT NULL REFERENCES counter_operators(id),
  amount         INTEGER NOT NULL DEFAULT 0,     -- yen (receipts)
  issued_at      {{BIGINT}} NOT NULL,
  content        TEXT NOT NULL                   -- JSON
);
CREATE INDEX counter_documents_application ON counter_documents (application_id);

-- Number sequences, one row per (municipality, series, year): incremented inside the transaction that
-- uses the number, so numbers are gapless and never reused.
CREATE TABLE counter_sequences (
  name  TEXT PRIMARY KEY,                        -- e.g. 13103:R:2026
  value {{BIGINT}} NOT NULL
);

-- Idempotent submissions: the first result of each (operator, Idempotency-Key), stored in the transaction
-- that produced it. 'pending' rows hold a lease while the work runs.
CREATE TABLE counter_submissions (
  operator_id  TEXT NOT NULL,
  idem_key     TEXT NOT NULL,
  action       TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  state        TEXT NOT NULL,                    -- pending | done
  result       TEXT,                             -- JSON
  lease_until  {{BIGINT}} NOT NULL,
  created_at   {{BIGINT}} NOT NULL,
  PRIMARY KEY (operator_id, idem_key)
);

-- The counter asks which live certificates a card in its device holds.
CREATE INDEX certificates_card ON certificates (card_id);
