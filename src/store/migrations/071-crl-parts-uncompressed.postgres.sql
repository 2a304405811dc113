-- PostgreSQL only: the parts of a stored CRL are kept out of line without compression. A CRL is mostly
-- random serial numbers, so pglz (tried on every value over 2 kB) spent a third of a second of the
-- primary's CPU per million-entry CRL to save little, and reading it back cost the decompression again.
ALTER TABLE crl_parts ALTER COLUMN bytes SET STORAGE EXTERNAL;
