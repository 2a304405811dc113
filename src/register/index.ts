/**
 * The Basic Resident Register (住民基本台帳): residents, their change events, the municipalities. The
 * front door is `ResidentRegister`; certificate consequences of a change belong to the counter
 * (counter/register-changes.ts), which runs each change inside its own transaction.
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
  type ChangeConsequences,
  type RegisterDependencies,
} from './register.js';
export { RegisterError, type RegisterErrorCode } from './errors.js';
export { MUNICIPALITIES, municipalityByCode, prefectureOf, addressPrefix, type Municipality } from './municipalities.js';
export { isValidRecordCode, newRecordCode, recordCodeCheckDigit } from './record-code.js';
export { normaliseName, japanDate } from './facts.js';
export { parseCsv, residentsFromCsv, IMPORT_COLUMNS } from './csv.js';
