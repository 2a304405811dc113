import { createHash, randomBytes, randomInt } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../common/clock.js';
import { isUniqueViolation, type AgencyApplicationRecord } from '../store/index.js';
import type { Reason, SignerFacts, VerificationReport } from '../verifier/index.js';
import { AgencyError } from './errors.js';
import type { AgencyApplicationStore, SignatureVerification } from './ports.js';
import { PROCEDURES, procedureById, type Procedure } from './procedures.js';

/**
 * The sample agency's e-application desk (issue 9; docs/agency.md). A resident fills a procedure's form; the
 * agency turns it into the exact document to sign (`prepare`); the resident's card signs it through the local
 * client agent; the agency receives form + signed document + signature + certificate (`submit`), checks that
 * the signed document is this form, has the verifier judge the signature and the signer's certificate (path
 * from the agency's own trust anchor through the bridges, revocation), checks the certified name against the
 * form's, and stores the application with the outcome. Accepted applications get a receipt number (到達番号);
 * rejected ones are kept too, with their reasons, under a reference number.
 */
export type FormValues = Record<string, string | number | boolean>;

export interface AgencyDependencies {
  applications: AgencyApplicationStore;
  verifier: SignatureVerification;
  clock: Clock;
  /** The agency's name as the signed documents carry it. */
  agencyName?: string;
}

export const DEFAULT_AGENCY_NAME = '総務省 電子申請窓口（見本）';
export const DOCUMENT_TYPE = 'jpki-agency-application';
export const DOCUMENT_CONTENT_TYPE = 'application/json';

/** What the resident's card signs: the agency, the procedure, a fresh document id, and the form, in this order. */
export interface ApplicationDocument {
  type: typeof DOCUMENT_TYPE;
  version: 1;
  agency: string;
  procedure: string;
  title: string;
  documentId: string;
  preparedAt: string;
  form: FormValues;
}

export interface PreparedDocument {
  procedure: string;
  documentId: string;
  /** The exact bytes to sign, base64. */
  content: string;
  contentType: string;
  /** The one line the agent shows the resident beside the bytes. */
  summary: string;
}

export interface SubmittedApplication {
  procedure: string;
  form: unknown;
  /** The signed bytes. */
  content: Uint8Array;
  /** The detached CMS SignedData. */
  signature: Uint8Array;
  /** The certificate the agent returned beside the signature (must be the signer's). */
  certificate?: Uint8Array;
}

/** One reason for a rejection: the agency's own checks (`agency`) or the verifier's report (`verifier`). */
export interface AgencyReason {
  source: 'agency' | 'verifier';
  code: string;
  message: string;
  revokedAt?: string;
  revocationReason?: string;
}

export interface Receipt {
  status: 'accepted';
  receiptNumber: string;
  procedure: string;
  title: string;
  receivedAt: string;
  applicant: { name: string; address: string };
}

export interface Rejection {
  status: 'rejected';
  /** A reference for enquiries: the rejected application is kept. */
  receiptNumber: string;
  procedure: string;
  title: string;
  receivedAt: string;
  verdict: VerificationReport['verdict'];
  reasons: AgencyReason[];
}

export interface VerifiedFacts {
  name: string;
  address: string;
  dateOfBirth: string;
  dateOfBirthEra: string;
  sex: string;
}

/** An application as the staff page shows it: the form, the outcome and the verification report. */
export interface StaffApplication {
  receiptNumber: string;
  procedure: string;
  title: string;
  status: 'accepted' | 'rejected';
  receivedAt: string;
  applicantName: string;
  form: FormValues;
  verdict: string;
  reasons: AgencyReason[];
  verified: VerifiedFacts | null;
  signer: { subject: string; issuer: string; serial: string; notBefore: string; notAfter: string } | null;
  signingTime: string | null;
  signatureAlgorithm: string | null;
  path: { subject: string; serial: string; anchor: boolean; revocation: string }[];
}

const DocumentSchema = z
  .object({
    type: z.literal(DOCUMENT_TYPE),
    version: z.literal(1),
    agency: z.string(),
    procedure: z.string(),
    title: z.string(),
    documentId: z.string().regex(/^[0-9a-f]{32}$/),
    preparedAt: z.string().max(40),
    form: z.record(z.string(), z.unknown()),
  })
  .strict();

/** Names compared as people write them: NFKC (full-width letters and spaces), one space between parts. */
export function normaliseName(name: string): string {
  return name.normalize('NFKC').replace(/\s+/gu, ' ').trim();
}

function invalid(message: string): AgencyError {
  return new AgencyError('AGENCY_REQUEST_INVALID', 'malformed', message);
}

function procedureOf(id: string): Procedure {
  const p = procedureById(id);
  if (!p) throw new AgencyError('AGENCY_PROCEDURE_UNKNOWN', 'not-found', `no procedure ${JSON.stringify(id)}; known: ${PROCEDURES.map((x) => x.id).join(', ')}`);
  return p;
}

/** The form checked against the procedure's rules, its fields in document order. */
function checkedForm(p: Procedure, form: unknown): FormValues {
  const r = p.schema.safeParse(form);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw invalid(`the form of ${p.id} is not complete: ${issue ? `${issue.path.join('.') || 'form'}: ${issue.message}` : 'invalid'}`);
  }
  return Object.fromEntries(p.fields.map((f) => [f, r.data[f]!]));
}

function receivedOn(at: Date): string {
  // the day in Japan
  return new Date(at.getTime() + 9 * 3600_000).toISOString().slice(0, 10).replace(/-/g, '');
}

function factsOf(report: VerificationReport): SignerFacts | null {
  return report.signer?.facts ?? null;
}

function fromReason(r: Reason): AgencyReason {
  return {
    source: 'verifier',
    code: r.code,
    message: r.message,
    ...(r.revokedAt ? { revokedAt: r.revokedAt } : {}),
    ...(r.revocationReason ? { revocationReason: r.revocationReason } : {}),
  };
}

export class Agency {
  readonly agencyName: string;

  constructor(private readonly deps: AgencyDependencies) {
    this.agencyName = deps.agencyName ?? DEFAULT_AGENCY_NAME;
  }

  /** The procedures the site takes: id, official title, fields in order. */
  procedures(): { id: string; title: string; fields: readonly string[] }[] {
    return PROCEDURES.map((p) => ({ id: p.id, title: p.title, fields: p.fields }));
  }

  private document(p: Procedure, form: FormValues, documentId: string, preparedAt: string): Buffer {
    const doc: ApplicationDocument = { type: DOCUMENT_TYPE, version: 1, agency: this.agencyName, procedure: p.id, title: p.title, documentId, preparedAt, form };
    return Buffer.from(`${JSON.stringify(doc, null, 2)}\n`, 'utf8');
  }

  /** The document the resident's card is to sign for this form (nothing is stored yet). */
  prepare(procedure: string, form: unknown): PreparedDocument {
    const p = procedureOf(procedure);
    const values = checkedForm(p, form);
    const documentId = randomBytes(16).toString('hex');
    const content = this.document(p, values, documentId, this.deps.clock.now().toISOString());
    return { procedure: p.id, documentId, content: content.toString('base64'), contentType: DOCUMENT_CONTENT_TYPE, summary: `${p.title}: ${String(values.name)}` };
  }

  /**
   * Receives a signed application. Accepted only when the signed bytes are this agency's document of exactly
   * this form, the verifier says valid, the certificate sent is the signer's, and the certified name is the
   * form's. Either way the application is stored; a document already accepted is refused (409).
   */
  async submit(a: SubmittedApplication): Promise<Receipt | Rejection> {
    const p = procedureOf(a.procedure);
    const form = checkedForm(p, a.form);
    const content = Buffer.from(a.content);
    const reasons: AgencyReason[] = [];

    // 1. The signed bytes must be our document of this very form.
    let documentId = `sha256:${createHash('sha256').update(content).digest('hex')}`;
    const parsed = (() => {
      try {
        return DocumentSchema.safeParse(JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(content)));
      } catch {
        return undefined;
      }
    })();
    if (!parsed?.success) {
      reasons.push({ source: 'agency', code: 'form-mismatch', message: 'the signed data is not an application document of this site' });
    } else {
      documentId = parsed.data.documentId;
      if (!this.document(p, form, parsed.data.documentId, parsed.data.preparedAt).equals(content))
        reasons.push({ source: 'agency', code: 'form-mismatch', message: 'the signed data differs from the submitted form' });
    }
    if (!documentId.startsWith('sha256:') && (await this.deps.applications.acceptedOf(documentId)))
      throw new AgencyError('AGENCY_APPLICATION_DUPLICATE', 'conflict', 'this signed application was already received and accepted');

    // 2. The verifier: signature, path from the agency's anchor through the bridges, revocation.
    const at = this.deps.clock.now();
    const report = await this.deps.verifier.verify(a.signature, content, at);
    reasons.push(...report.reasons.map(fromReason));
    if (report.verdict !== 'valid' && report.reasons.length === 0) reasons.push({ source: 'verifier', code: report.verdict, message: `the verifier's verdict is ${report.verdict}` });

    // 3. The certificate sent is the signer's; the certified name is the form's.
    const signerDer = report.signer ? Buffer.from(report.signer.certificate, 'base64') : undefined;
    if (a.certificate && signerDer && !signerDer.equals(Buffer.from(a.certificate)))
      reasons.push({ source: 'agency', code: 'certificate-mismatch', message: 'the certificate sent is not the one that signed' });
    const facts = factsOf(report);
    if (report.signer && !facts) reasons.push({ source: 'agency', code: 'name-mismatch', message: "the signer's certificate carries no resident's facts (not a JPKI signing certificate)" });
    else if (facts && normaliseName(facts.name) !== normaliseName(String(form.name)))
      reasons.push({ source: 'agency', code: 'name-mismatch', message: `the certificate is ${facts.name}'s, the form names ${String(form.name)}` });

    const accepted = report.verdict === 'valid' && reasons.length === 0;
    const record = {
      procedureId: p.id,
      status: accepted ? ('accepted' as const) : ('rejected' as const),
      documentId,
      form: JSON.stringify(form),
      content,
      signature: Buffer.from(a.signature),
      certificate: signerDer ?? (a.certificate ? Buffer.from(a.certificate) : null),
      verdict: report.verdict,
      reasons: JSON.stringify(reasons),
      report: JSON.stringify(report),
      applicantName: String(form.name),
      verifiedName: facts?.name ?? null,
      verifiedAddress: facts?.address ?? null,
      receivedAt: at.getTime(),
    };
    const receiptNumber = await this.insert(record, at);
    const base = { receiptNumber, procedure: p.id, title: p.title, receivedAt: at.toISOString() };
    if (accepted) return { status: 'accepted', ...base, applicant: { name: facts!.name, address: facts!.address } };
    return { status: 'rejected', ...base, verdict: report.verdict, reasons };
  }

  /** Stores under a fresh receipt number (YYYYMMDD-NNNNNNNN, the day in Japan); a replay raced in is refused. */
  private async insert(record: Omit<AgencyApplicationRecord, 'id' | 'receiptNumber'>, at: Date): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      const receiptNumber = `${receivedOn(at)}-${String(randomInt(0, 100_000_000)).padStart(8, '0')}`;
      try {
        await this.deps.applications.insert({ ...record, receiptNumber });
        return receiptNumber;
      } catch (e) {
        if (!isUniqueViolation(e)) throw e;
        if (record.status === 'accepted' && (await this.deps.applications.acceptedOf(record.documentId)))
          throw new AgencyError('AGENCY_APPLICATION_DUPLICATE', 'conflict', 'this signed application was already received and accepted');
        if (attempt >= 4) throw e;
      }
    }
  }

  /** The applications received, newest first, for the staff page. */
  async list(filter: { status?: 'accepted' | 'rejected'; limit?: number; beforeId?: number } = {}): Promise<StaffApplication[]> {
    const rows = await this.deps.applications.list({ limit: Math.min(Math.max(filter.limit ?? 50, 1), 200), ...(filter.status ? { status: filter.status } : {}), ...(filter.beforeId !== undefined ? { beforeId: filter.beforeId } : {}) });
    return rows.map((r) => this.staffView(r));
  }

  async get(receiptNumber: string): Promise<StaffApplication> {
    const r = /^\d{8}-\d{8}$/.test(receiptNumber) ? await this.deps.applications.get(receiptNumber) : undefined;
    if (!r) throw new AgencyError('AGENCY_APPLICATION_NOT_FOUND', 'not-found', `no application ${JSON.stringify(receiptNumber)}`);
    return this.staffView(r);
  }

  /** The stored signature and certificate of one application (what staff hand to `jpki verify` or openssl). */
  async evidence(receiptNumber: string): Promise<{ content: Buffer; signature: Buffer; certificate: Buffer | null }> {
    const r = /^\d{8}-\d{8}$/.test(receiptNumber) ? await this.deps.applications.get(receiptNumber) : undefined;
    if (!r) throw new AgencyError('AGENCY_APPLICATION_NOT_FOUND', 'not-found', `no application ${JSON.stringify(receiptNumber)}`);
    return { content: r.content, signature: r.signature, certificate: r.certificate };
  }

  private staffView(r: AgencyApplicationRecord): StaffApplication {
    const report = JSON.parse(r.report) as VerificationReport;
    const facts = report.signer?.facts ?? null;
    return {
      receiptNumber: r.receiptNumber,
      procedure: r.procedureId,
      title: procedureById(r.procedureId)?.title ?? r.procedureId,
      status: r.status,
      receivedAt: new Date(r.receivedAt).toISOString(),
      applicantName: r.applicantName,
      form: JSON.parse(r.form) as FormValues,
      verdict: r.verdict,
      reasons: JSON.parse(r.reasons) as AgencyReason[],
      verified: facts ? { name: facts.name, address: facts.address, dateOfBirth: facts.dateOfBirth, dateOfBirthEra: facts.dateOfBirthEra, sex: facts.sex } : null,
      signer: report.signer
        ? { subject: report.signer.subject, issuer: report.signer.issuer, serial: report.signer.serial, notBefore: report.signer.notBefore, notAfter: report.signer.notAfter }
        : null,
      signingTime: report.signingTime,
      signatureAlgorithm: report.signatureAlgorithm,
      path: report.path.map((e) => ({ subject: e.subject, serial: e.serial, anchor: e.anchor, revocation: e.anchor ? 'anchor' : `${e.revocation.status} (${e.revocation.source})` })),
    };
  }
}
