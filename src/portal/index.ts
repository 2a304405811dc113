/** The public portal: trust anchors with fingerprints, CRL downloads, the online window (docs/portal.md). */
export {
  Portal,
  PortalError,
  CHALLENGE_LIFETIME_MS,
  ONLINE_REASONS,
  type PortalPorts,
  type PortalAuthority,
  type CertificateStatusRecord,
  type TrustAnchorEntry,
  type Challenge,
  type CertificateStatusAnswer,
  type RevocationNotice,
  type OnlineReason,
} from './portal.js';
