/** Object identifiers used by the JPKI profile and the standards it follows, by name. */

// JPKI private arc 1.2.392.200149.8.5 (jpki-profile.md §1.1, §1.3)
export const OID_JPKI_NAME = '1.2.392.200149.8.5.5.1';
export const OID_JPKI_NAME_SUBSTITUTE = '1.2.392.200149.8.5.5.2';
export const OID_JPKI_SEX = '1.2.392.200149.8.5.5.3';
export const OID_JPKI_DATE_OF_BIRTH = '1.2.392.200149.8.5.5.4';
export const OID_JPKI_ADDRESS = '1.2.392.200149.8.5.5.5';
export const OID_JPKI_ADDRESS_SUBSTITUTE = '1.2.392.200149.8.5.5.6';
/** Certificate policies: signing "class 20" and user authentication "class 30" (jpki-profile.md §1.3). */
export const OID_JPKI_POLICY_SIGN = '1.2.392.200149.8.5.1.1.20';
export const OID_JPKI_POLICY_AUTH = '1.2.392.200149.8.5.1.3.30';

/**
 * Bridge-domain and government-side (GPKI) policies. The real OIDs are not public in our sources, so these
 * are our own, under the ITU-T X.660 "example" arc 2.999 (reserved for examples, never assigned): the JPKI
 * bridge's domain and the GPKI domain. Cross-certificates map them onto the JPKI policies (see ca/hierarchy.ts).
 */
export const OID_JPKI_BRIDGE_POLICY_SIGN = '2.999.392.1.1.20';
export const OID_JPKI_BRIDGE_POLICY_AUTH = '2.999.392.1.3.30';
export const OID_GPKI_POLICY_SIGN = '2.999.392.2.1.20';
export const OID_GPKI_POLICY_AUTH = '2.999.392.2.3.30';

// Attribute types (X.520)
export const OID_AT_COUNTRY = '2.5.4.6';
export const OID_AT_ORGANIZATION = '2.5.4.10';
export const OID_AT_ORGANIZATIONAL_UNIT = '2.5.4.11';
export const OID_AT_COMMON_NAME = '2.5.4.3';
export const OID_AT_LOCALITY = '2.5.4.7';

// Extensions (RFC 5280 §4.2)
export const OID_EXT_SUBJECT_KEY_IDENTIFIER = '2.5.29.14';
export const OID_EXT_KEY_USAGE = '2.5.29.15';
export const OID_EXT_SUBJECT_ALT_NAME = '2.5.29.17';
export const OID_EXT_ISSUER_ALT_NAME = '2.5.29.18';
export const OID_EXT_BASIC_CONSTRAINTS = '2.5.29.19';
export const OID_EXT_CRL_NUMBER = '2.5.29.20';
export const OID_EXT_CRL_REASON = '2.5.29.21';
export const OID_EXT_INVALIDITY_DATE = '2.5.29.24';
export const OID_EXT_DELTA_CRL_INDICATOR = '2.5.29.27';
export const OID_EXT_ISSUING_DISTRIBUTION_POINT = '2.5.29.28';
export const OID_EXT_NAME_CONSTRAINTS = '2.5.29.30';
export const OID_EXT_CRL_DISTRIBUTION_POINTS = '2.5.29.31';
export const OID_EXT_CERTIFICATE_POLICIES = '2.5.29.32';
export const OID_EXT_POLICY_MAPPINGS = '2.5.29.33';
export const OID_EXT_AUTHORITY_KEY_IDENTIFIER = '2.5.29.35';
export const OID_EXT_POLICY_CONSTRAINTS = '2.5.29.36';
export const OID_EXT_EXTENDED_KEY_USAGE = '2.5.29.37';
export const OID_EXT_FRESHEST_CRL = '2.5.29.46';
export const OID_EXT_INHIBIT_ANY_POLICY = '2.5.29.54';
export const OID_EXT_AUTHORITY_INFO_ACCESS = '1.3.6.1.5.5.7.1.1';

// PKIX (RFC 5280, RFC 6960)
export const OID_AD_OCSP = '1.3.6.1.5.5.7.48.1';
export const OID_AD_CA_ISSUERS = '1.3.6.1.5.5.7.48.2';
export const OID_KP_OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';
export const OID_PKIX_OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1';
export const OID_PKIX_OCSP_NONCE = '1.3.6.1.5.5.7.48.1.2';
export const OID_PKIX_OCSP_NOCHECK = '1.3.6.1.5.5.7.48.1.5';
export const OID_ANY_POLICY = '2.5.29.32.0';
export const OID_QT_CPS = '1.3.6.1.5.5.7.2.1';

// Algorithms
export const OID_RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
export const OID_SHA256_WITH_RSA = '1.2.840.113549.1.1.11';
export const OID_SHA384_WITH_RSA = '1.2.840.113549.1.1.12';
export const OID_SHA512_WITH_RSA = '1.2.840.113549.1.1.13';
export const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
export const OID_ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
export const OID_ECDSA_WITH_SHA384 = '1.2.840.10045.4.3.3';
export const OID_SHA1 = '1.3.14.3.2.26';
export const OID_SHA256 = '2.16.840.1.101.3.4.2.1';
export const OID_SHA384 = '2.16.840.1.101.3.4.2.2';
export const OID_SHA512 = '2.16.840.1.101.3.4.2.3';

// CMS (RFC 5652)
export const OID_CMS_DATA = '1.2.840.113549.1.7.1';
export const OID_CMS_SIGNED_DATA = '1.2.840.113549.1.7.2';
export const OID_PKCS9_CONTENT_TYPE = '1.2.840.113549.1.9.3';
export const OID_PKCS9_MESSAGE_DIGEST = '1.2.840.113549.1.9.4';
export const OID_PKCS9_SIGNING_TIME = '1.2.840.113549.1.9.5';
