/**
 * The municipal counter (registration authority). Front door: `createCounter(deps)` → `Counter`, with its
 * parts `operators`, `issuance`, `revocation`, `pins`, `registerChanges`. See docs/counter.md.
 */
export { Counter, createCounter, type CounterDependencies, type ResidentOverview, type DeviceView, type DeviceStatus } from './counter.js';
export { CounterError, COUNTER_ERROR_CODES, type CounterErrorCode } from './errors.js';
export {
  CounterOperators,
  actorOf,
  MAX_FAILED_LOGINS,
  LOCKOUT_BASE_MS,
  LOCKOUT_MAX_MS,
  lockoutDuration,
  admitAttempt,
  SESSION_LIFETIME_MS,
  SESSION_IDLE_MS,
  type Operator,
  type OperatorView,
  type NewOperator,
  type Session,
} from './operators.js';
export { IssuanceWorkflow, ISSUANCE_FEE_YEN, type IssuanceResult, type IssuedCertificate, type Handover } from './issuance.js';
export { RevocationDesk, COUNTER_REASON_CRL, type CounterRevocationResult } from './revocation.js';
export { PinServices, type PinService, type PinServiceResult } from './pin-services.js';
export { RegisterChanges, revocationFor, type RegisterChangeResult, type RevokedByChange } from './register-changes.js';
export { dayLedger, type Ledger, type LedgerEntry } from './ledger.js';
export { certificateCopy, usageGuide, caFingerprint, type CertificateCopy, type UsageGuide, type CaFingerprint } from './handover.js';
export { deviceFactory, parseDeviceUri, type KeyPairGenerationDevice, type DeviceFactory, type DeviceFactoryOptions, type ParsedDeviceUri } from './devices.js';
export { Submissions, IDEMPOTENCY_KEY_PATTERN, SUBMISSION_LEASE_MS, type SubmissionOutcome, type Seal } from './submissions.js';
export { translate, negotiateLanguage, isLanguage, hasMessage, LANGUAGES, type Language } from './messages.js';
export { hashPassword, verifyPassword, passwordProblem, MIN_PASSWORD_LENGTH } from './passwords.js';
export {
  ApplicationFormSchema,
  PhotoIdSchema,
  PHOTO_ID_TYPES,
  COUNTER_REVOCATION_REASONS,
  OpenIssuanceSchema,
  FeeSchema,
  DeviceStepSchema,
  RevocationSchema,
  PinChangeSchema,
  PinResetSchema,
  DeviceRefSchema,
  parseInput,
  checkNewPin,
  type ApplicationForm,
  type PhotoId,
  type DeviceRef,
  type CounterRevocationReason,
  type OpenIssuanceInput,
  type DeviceStepInput,
  type RevocationInput,
  type PinChangeInput,
  type PinResetInput,
} from './inputs.js';
export {
  formFromRegister,
  residentView,
  type ResidentView,
  type ApplicationView,
  type DocumentView,
  type CertificateSummary,
} from './context.js';
export { seedDemo, isEmptyCounter, DEMO_PASSWORD, DEMO_RESIDENTS, DEMO_OPERATORS, type DemoSeed } from './demo.js';
