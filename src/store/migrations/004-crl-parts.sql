-- CRLs are stored in parts of at most 1 MiB: a CRL of a million entries (37 MiB) written as one BLOB made the
-- database hold two more copies of it in memory while storing it. The parts are joined when read.

CREATE TABLE crl_parts (
  ca_id TEXT NOT NULL,
  scope TEXT NOT NULL,
  part  INTEGER NOT NULL,
  bytes {{BLOB}} NOT NULL,
  PRIMARY KEY (ca_id, scope, part)
);

INSERT INTO crl_parts (ca_id, scope, part, bytes) SELECT ca_id, scope, 0, der FROM crls;

ALTER TABLE crls DROP COLUMN der;
