/**
 * The Basic Resident Register (住民基本台帳): residents, their change events, the municipalities. The
 * front door is `ResidentRegister`; certificate consequences of a change belong to the CA, which follows
 * the register's events (ca/register-events.ts).
 */
export {
  ResidentRegister,
  CERTIFIED_FACTS,
  RENAME_REASONS,
  type Resident,
  type NewResident,
  type MoveInput,
  type RenameInput,
  type RenameReason,
  type CorrectionInput,
  type DeathInput,
  type MoveScope,
  type CertifiedFact,
  type ResidentChange,
  type RegisterDependencies,
  type RegisterStore,
  type RegisterEventSummary,
} from './register.js';
export { RegisterError, type RegisterErrorCode } from './errors.js';
export {
  allMunicipalities,
  municipalityByCode,
  municipalityCodeProblem,
  jisCheckDigit,
  fullCode,
  normaliseDigits,
  prefectureOf,
  addressPrefix,
  type Municipality,
  type MunicipalityKind,
} from './municipalities.js';
export { isValidRecordCode, newRecordCode, recordCodeCheckDigit, recordCodeProblem } from './record-code.js';
export { normaliseName, japanDate } from './facts.js';
export { parseCsv, csvRows, residentsFromCsv, IMPORT_COLUMNS } from './csv.js';
export { ImportRejected, type ImportProblem, type ImportProgress, type ImportOptions, type ImportResult } from './import.js';
