/**
 * What the counter API answers (docs/counter.md §10), as the terminal reads it. The browser side keeps its
 * own copy of these shapes: it talks to the server over HTTP only (ARCHITECTURE.md).
 */
export type Role = 'clerk' | 'supervisor';
export type PinName = 'sign' | 'auth';
export type CertificateKind = 'sign' | 'auth';

export interface OperatorView {
  id: string;
  name: string;
  municipality: string;
  municipalityName: string;
  municipalityNameEn: string;
  prefecture: string;
  role: Role;
  language: 'ja' | 'en' | 'ko';
  locked: boolean;
  lockedUntil: string | null;
  /** A supervisor locked the account. */
  suspended: boolean;
  createdAt: string;
}

export interface RegisterChangeResult {
  resident: ResidentView;
  event: { type: string; version: number; effectiveOn: string; changedFacts: string[]; moveScope?: string };
  revoked: { kind: string; caId: string; serial: string; reason: string }[];
}

export interface LoginAnswer {
  operator: OperatorView;
  csrfToken: string;
  expiresAt: string;
}

export interface MeAnswer extends LoginAnswer {
  language: string;
}

export interface ResidentView {
  id: string;
  recordCode: string;
  name: string;
  nameSubstitute: string;
  address: string;
  addressSubstitute: string;
  dateOfBirth: string;
  dateOfBirthJa: string;
  sex: string;
  municipality: string;
  municipalityName: string;
  municipalityNameEn: string;
  prefecture: string;
  prefectureName: string;
  status: 'registered' | 'deceased';
  version: number;
}

export interface CertificateSummary {
  kind: string;
  caId: string;
  serial: string;
  cardId: string | null;
  notBefore: string;
  notAfter: string;
  status: 'live' | 'revoked' | 'expired';
  revokedAt: string | null;
  revocationReason: number | null;
}

export type ApplicationKind = 'issuance' | 'revocation' | 'pin-change' | 'pin-reset' | 'pin-unlock';
export type ApplicationStep = 'identity' | 'fee' | 'device' | 'done';

export interface ApplicationView {
  number: string;
  kind: ApplicationKind;
  status: 'open' | 'completed' | 'cancelled';
  step: ApplicationStep;
  municipality: string;
  residentId: string;
  operator: string;
  form: { name?: string; dateOfBirth?: string; address?: string; phone?: string; [k: string]: unknown };
  identity: { type: string; number: string | null } | null;
  fee: number;
  result: { receipt?: string; [k: string]: unknown } | null;
  createdAt: string;
  completedAt: string | null;
}

export interface ResidentOverview {
  resident: ResidentView;
  certificates: CertificateSummary[];
  applications: ApplicationView[];
}

export interface DocumentView {
  number: string;
  type: 'receipt' | 'notice';
  applicationNumber: string;
  municipality: string;
  municipalityName: string;
  residentId: string;
  operator: string;
  amount: number;
  issuedAt: string;
  content: Record<string, unknown>;
}

export interface IssuedCertificate {
  kind: CertificateKind;
  caId: string;
  serial: string;
  notBefore: string;
  notAfter: string;
}

export interface IssuanceResult {
  application: ApplicationView;
  receipt: DocumentView;
  cardId: string;
  certificates: { sign: IssuedCertificate; auth: IssuedCertificate };
  superseded: { caId: string; serial: string; kind: string }[];
}

export interface RevokedCertificate {
  kind: string;
  caId: string;
  serial: string;
  reason: string;
  reasonCode: number;
}

export interface RevocationResult {
  application: ApplicationView;
  notice: DocumentView;
  revoked: RevokedCertificate[];
}

export interface PinServiceResult {
  application: ApplicationView;
  notice: DocumentView;
  cardId: string;
  pin: PinName;
  status: { triesLeft: number; maxTries: number; blocked: boolean };
}

export interface Device {
  id: string;
  municipality: string;
  name: string;
  uri: string;
}

export interface DeviceStatus extends Device {
  cardPresent: boolean;
  cardId?: string;
  blank?: boolean;
  state?: { keys: Record<CertificateKind, boolean>; pinsSet: Record<PinName, boolean>; triesLeft: Record<PinName, number>; issuerTriesLeft: number; issuerLocked: boolean };
  /** The device could not read the card (e.g. it is served to pcscd elsewhere): the reason as the server gives it. */
  problem?: { code: string; message: string };
}

export interface CertificateCopy {
  kind: CertificateKind;
  caId: string;
  issuer: string;
  issuerEn: string;
  serial: string;
  subject: string;
  notBefore: string;
  notAfter: string;
  notBeforeJa: string;
  notAfterJa: string;
  sha1: string;
  sha256: string;
  pem: string;
  facts?: {
    name: string;
    nameSubstitute: string;
    dateOfBirth: string;
    dateOfBirthCode: string;
    dateOfBirthJa: string;
    sex: string;
    sexJa: string;
    address: string;
    addressSubstitute: string;
  };
}

export interface Handover {
  applicationNumber: string;
  resident: { id: string; name: string };
  receiptNumber: string | null;
  sign: CertificateCopy;
  auth: CertificateCopy;
}

export interface CaFingerprint {
  id: string;
  name: string;
  nameEn: string;
  subject: string;
  notAfter: string;
  sha1: string;
  sha256: string;
}

export interface UsageGuide {
  applicationNumber: string;
  prefecturalCa: CaFingerprint;
  bridgeCa: CaFingerprint;
  portalUrl: string;
  pinRules: Record<PinName, { rule: string; maxTries: number }>;
  validUntil: string;
  validUntilJa: string;
  invalidatedBy: string[];
}

export interface LedgerEntry extends ApplicationView {
  residentName: string;
  documents: DocumentView[];
}

export interface Ledger {
  date: string;
  municipality: string;
  municipalityName: string;
  scope: 'own' | 'all';
  operator: string | null;
  entries: LedgerEntry[];
  totals: {
    applications: number;
    completed: number;
    open: number;
    cancelled: number;
    fees: number;
    receipts: number;
    notices: number;
    byKind: Record<string, number>;
  };
}
