-- The sample agency's e-applications (issue 9, src/agency/): what a resident sent — the form, the exact signed
-- bytes, the CMS signature and the signer's certificate — and what the agency concluded: accepted with a
-- receipt number, or rejected with reasons. The verifier's whole report is kept beside it as JSON.
CREATE TABLE agency_applications (
  id               {{AUTOID}},
  receipt_number   TEXT NOT NULL UNIQUE,          -- 到達番号 shown to the applicant (also for rejections: a reference)
  procedure_id     TEXT NOT NULL,                 -- moving-out | residence-certificate | …
  status           TEXT NOT NULL,                 -- accepted | rejected
  document_id      TEXT NOT NULL,                 -- the id inside the signed document (one acceptance per document)
  form             TEXT NOT NULL,                 -- the submitted form, JSON
  content          {{BLOB}} NOT NULL,             -- the signed bytes
  signature        {{BLOB}} NOT NULL,             -- the CMS SignedData (DER)
  certificate      {{BLOB}},                      -- the signer's certificate (DER), when one could be read
  verdict          TEXT NOT NULL,                 -- the verifier's: valid | invalid | indeterminate
  reasons          TEXT NOT NULL,                 -- JSON [{ source, code, message }]
  report           TEXT NOT NULL,                 -- the verifier's report, JSON
  applicant_name   TEXT NOT NULL,                 -- the name typed into the form
  verified_name    TEXT,                          -- from the certificate, when it carries the resident's facts
  verified_address TEXT,
  received_at      {{BIGINT}} NOT NULL
);
-- A signed document is accepted once: a replay of an accepted application is refused.
CREATE UNIQUE INDEX agency_applications_document ON agency_applications (document_id) WHERE status = 'accepted';
CREATE INDEX agency_applications_received ON agency_applications (received_at, id);
