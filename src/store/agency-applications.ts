import type { SqlExecutor } from './database.js';

/** One e-application as the sample agency stored it (migration 025). */
export interface AgencyApplicationRecord {
  id: number;
  receiptNumber: string;
  procedureId: string;
  status: 'accepted' | 'rejected';
  documentId: string;
  /** The submitted form, JSON text. */
  form: string;
  content: Buffer;
  signature: Buffer;
  certificate: Buffer | null;
  verdict: string;
  /** JSON text. */
  reasons: string;
  /** The verifier's report, JSON text. */
  report: string;
  applicantName: string;
  verifiedName: string | null;
  verifiedAddress: string | null;
  receivedAt: number;
}

export type NewAgencyApplication = Omit<AgencyApplicationRecord, 'id'>;

interface Row {
  id: number;
  receipt_number: string;
  procedure_id: string;
  status: 'accepted' | 'rejected';
  document_id: string;
  form: string;
  content: Buffer;
  signature: Buffer;
  certificate: Buffer | null;
  verdict: string;
  reasons: string;
  report: string;
  applicant_name: string;
  verified_name: string | null;
  verified_address: string | null;
  received_at: number | string;
  [k: string]: unknown;
}

const fromRow = (r: Row): AgencyApplicationRecord => ({
  id: Number(r.id),
  receiptNumber: r.receipt_number,
  procedureId: r.procedure_id,
  status: r.status,
  documentId: r.document_id,
  form: r.form,
  content: r.content,
  signature: r.signature,
  certificate: r.certificate,
  verdict: r.verdict,
  reasons: r.reasons,
  report: r.report,
  applicantName: r.applicant_name,
  verifiedName: r.verified_name,
  verifiedAddress: r.verified_address,
  receivedAt: Number(r.received_at),
});

/** The agency's applications: written once when received, read by the staff page. */
export class AgencyApplicationRepository {
  constructor(private readonly sql: SqlExecutor) {}

  /** Throws a unique violation for a receipt number taken, or a second acceptance of one document. */
  async insert(a: NewAgencyApplication): Promise<void> {
    await this.sql.execute(
      `INSERT INTO agency_applications (receipt_number, procedure_id, status, document_id, form, content, signature, certificate, verdict, reasons, report,
         applicant_name, verified_name, verified_address, received_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        a.receiptNumber,
        a.procedureId,
        a.status,
        a.documentId,
        a.form,
        a.content,
        a.signature,
        a.certificate,
        a.verdict,
        a.reasons,
        a.report,
        a.applicantName,
        a.verifiedName,
        a.verifiedAddress,
        a.receivedAt,
      ],
    );
  }

  async get(receiptNumber: string): Promise<AgencyApplicationRecord | undefined> {
    const r = await this.sql.queryOne<Row>('SELECT * FROM agency_applications WHERE receipt_number = ?', [receiptNumber]);
    return r && fromRow(r);
  }

  /** The accepted application of a signed document, if there is one. */
  async acceptedOf(documentId: string): Promise<AgencyApplicationRecord | undefined> {
    const r = await this.sql.queryOne<Row>(`SELECT * FROM agency_applications WHERE document_id = ? AND status = 'accepted'`, [documentId]);
    return r && fromRow(r);
  }

  /** Newest first; `beforeId` pages on. */
  async list(filter: { status?: 'accepted' | 'rejected'; limit: number; beforeId?: number }): Promise<AgencyApplicationRecord[]> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (filter.status) {
      where.push('status = ?');
      params.push(filter.status);
    }
    if (filter.beforeId !== undefined) {
      where.push('id < ?');
      params.push(filter.beforeId);
    }
    params.push(filter.limit);
    const rows = await this.sql.query<Row>(`SELECT * FROM agency_applications ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`, params);
    return rows.map(fromRow);
  }
}
