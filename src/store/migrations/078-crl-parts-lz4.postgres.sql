-- PostgreSQL only: the parts of a stored CRL compressed with lz4 (PostgreSQL 14 and later built with it, as
-- Debian's and the official images are), where migration 071 kept them uncompressed because pglz cost a
-- third of a second of CPU per million-entry CRL. lz4 costs little, and halves a CRL even with random
-- 128-bit serials (the DER around each serial, the dates, the reason codes repeat): storing such a
-- 1 M-entry CRL took 0.19-0.28 s instead of 0.47-0.71 s (the TOAST chunks and their WAL halved), reading it
-- back no longer. A server without lz4 (or before 14) keeps 071's setting.
DO $$
BEGIN
  ALTER TABLE crl_parts ALTER COLUMN bytes SET COMPRESSION lz4, ALTER COLUMN bytes SET STORAGE EXTENDED;
EXCEPTION WHEN feature_not_supported OR syntax_error THEN
  NULL;
END $$;
