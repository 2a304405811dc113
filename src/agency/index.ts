/**
 * The sample agency e-application site's module (issue 9; docs/agency.md): procedures, the document a
 * resident's card signs, receiving and judging signed applications with the verifier, the staff's list.
 * No HTTP here (src/server/routes/agency.ts) and no SQL (its table through the AgencyApplicationStore port).
 */
export {
  Agency,
  normaliseName,
  DEFAULT_AGENCY_NAME,
  DOCUMENT_CONTENT_TYPE,
  DOCUMENT_TYPE,
  type AgencyDependencies,
  type AgencyReason,
  type ApplicationDocument,
  type FormValues,
  type PreparedDocument,
  type Receipt,
  type Rejection,
  type StaffApplication,
  type SubmittedApplication,
  type VerifiedFacts,
} from './agency.js';
export { AgencyError } from './errors.js';
export { PROCEDURES, procedureById, type Procedure } from './procedures.js';
export type { AgencyApplicationStore, SignatureVerification } from './ports.js';
