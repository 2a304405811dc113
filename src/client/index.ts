/**
 * The user client software (guide §4(5), (6), (9), (10)): the certificate viewer, PIN change, fingerprints,
 * the validity check, signing, online revocation, and the local agent through which web pages use the card.
 * It reaches the card only through the Reader interface, so it works with any JPKI card.
 */
export { openCardSession, withCard, describeSource, CardSession, type CardSource, type CardSignature } from './card-session.js';
export { viewCertificate, certificateFromFile, fingerprints, issuerTitle, type CertificateView, type BasicRow, type DetailRow } from './certificate-view.js';
export { certificateHtml } from './certificate-html.js';
export { ClientError, clientErrorOf } from './errors.js';
export { LANGS, type Lang, type Label } from './labels.js';
export { checkValidity, type ValidityVerdict, type ValidityStatus } from './validity.js';
export { trustAnchorsOnCard, loadFingerprintList, compareFingerprints, normaliseFingerprint, type FingerprintComparison } from './fingerprints.js';
export { onlineRevocation, type RevocationNotice } from './online-revocation.js';
export { buildAgent, normaliseOrigin, AGENT_VERSION, DEFAULT_AGENT_PORT, DEFAULT_AGENT_ORIGINS, type AgentOptions } from './agent/server.js';
export { REQUEST_LIFETIME_MS } from './agent/requests.js';
export { viewerPlugin, type ViewerSource } from './viewer.js';
