import type { SqlExecutor } from './database.js';

export type ApplicationKind = 'issuance' | 'revocation' | 'pin-change' | 'pin-reset' | 'pin-unlock';
export type ApplicationStatus = 'open' | 'completed' | 'cancelled';
export type ApplicationStep = 'identity' | 'fee' | 'device' | 'done';
export type DocumentType = 'receipt' | 'notice';

/** An application taken at the counter. */
export interface ApplicationRecord {
  id: number;
  number: string;
  kind: ApplicationKind;
  municipality: string;
  residentId: string;
  operatorId: string;
  status: ApplicationStatus;
  step: ApplicationStep;
  form: Record<string, unknown>;
  identityType: string | null;
  identityNumber: string | null;
  fee: number;
  result: Record<string, unknown> | null;
  deviceLeaseUntil: number | null;
  createdAt: number;
  updatedAt: number;
  completedAt: number | null;
}

export type NewApplication = Omit<ApplicationRecord, 'id' | 'deviceLeaseUntil'>;

/** A numbered receipt or notice handed to the resident. */
export interface DocumentRecord {
  number: string;
  type: DocumentType;
  applicationId: number;
  municipality: string;
  residentId: string;
  operatorId: string;
  amount: number;
  issuedAt: number;
  content: Record<string, unknown>;
}

export interface DeviceRecord {
  id: string;
  municipality: string;
  name: string;
  uri: string;
  createdAt: number;
}

interface ApplicationRow {
  id: number;
  number: string;
  kind: ApplicationKind;
  municipality: string;
  resident_id: string;
  operator_id: string;
  status: ApplicationStatus;
  step: ApplicationStep;
  form: string;
  identity_type: string | null;
  identity_number: string | null;
  fee: number;
  result: string | null;
  device_lease_until: number | null;
  created_at: number;
  updated_at: number;
  completed_at: number | null;
  [k: string]: unknown;
}

interface DocumentRow {
  number: string;
  type: DocumentType;
  application_id: number;
  municipality: string;
  resident_id: string;
  operator_id: string;
  amount: number;
  issued_at: number;
  content: string;
  [k: string]: unknown;
}

const num = (v: number | null): number | null => (v === null ? null : Number(v));

const fromApplicationRow = (r: ApplicationRow): ApplicationRecord => ({
  id: Number(r.id),
  number: r.number,
  kind: r.kind,
  municipality: r.municipality,
  residentId: r.resident_id,
  operatorId: r.operator_id,
  status: r.status,
  step: r.step,
  form: JSON.parse(r.form) as Record<string, unknown>,
  identityType: r.identity_type,
  identityNumber: r.identity_number,
  fee: Number(r.fee),
  result: r.result === null ? null : (JSON.parse(r.result) as Record<string, unknown>),
  deviceLeaseUntil: num(r.device_lease_until),
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
  completedAt: num(r.completed_at),
});

const fromDocumentRow = (r: DocumentRow): DocumentRecord => ({
  number: r.number,
  type: r.type,
  applicationId: Number(r.application_id),
  municipality: r.municipality,
  residentId: r.resident_id,
  operatorId: r.operator_id,
  amount: Number(r.amount),
  issuedAt: Number(r.issued_at),
  content: JSON.parse(r.content) as Record<string, unknown>,
});

/** What the counter keeps: applications, numbered receipts and notices, number sequences, devices. */
export class CounterRecordRepository {
  constructor(private readonly sql: SqlExecutor) {}

  /**
   * The next number of a sequence (1, 2, …). Call it inside the transaction that uses the number: the row
   * stays locked until commit, and a rolled-back transaction gives its number back.
   */
  async nextNumber(sequence: string): Promise<number> {
    const r = await this.sql.queryOne<{ value: number }>(
      'INSERT INTO counter_sequences (name, value) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET value = counter_sequences.value + 1 RETURNING value',
      [sequence],
    );
    return Number(r!.value);
  }

  // ---- applications ----------------------------------------------------------------------------------

  async insertApplication(a: NewApplication): Promise<ApplicationRecord> {
    const r = await this.sql.queryOne<{ id: number }>(
      `INSERT INTO counter_applications (number, kind, municipality, resident_id, operator_id, status, step, form, identity_type, identity_number, fee, result, created_at, updated_at, completed_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      [
        a.number,
        a.kind,
        a.municipality,
        a.residentId,
        a.operatorId,
        a.status,
        a.step,
        JSON.stringify(a.form),
        a.identityType,
        a.identityNumber,
        a.fee,
        a.result === null ? null : JSON.stringify(a.result),
        a.createdAt,
        a.updatedAt,
        a.completedAt,
      ],
    );
    return { ...a, id: Number(r!.id), deviceLeaseUntil: null };
  }

  async application(number: string): Promise<ApplicationRecord | undefined> {
    const r = await this.sql.queryOne<ApplicationRow>('SELECT * FROM counter_applications WHERE number = ?', [number]);
    return r && fromApplicationRow(r);
  }

  async applicationById(id: number): Promise<ApplicationRecord | undefined> {
    const r = await this.sql.queryOne<ApplicationRow>('SELECT * FROM counter_applications WHERE id = ?', [id]);
    return r && fromApplicationRow(r);
  }

  /**
   * Moves an open application from one step to the next, recording what the step captured. Returns false
   * (nothing written) unless it was open and at `from`: a step done twice, or after cancellation, changes nothing.
   */
  async advance(
    id: number,
    from: ApplicationStep,
    to: ApplicationStep,
    fields: { identityType?: string; identityNumber?: string; fee?: number },
    at: number,
  ): Promise<boolean> {
    const sets = ['step = ?', 'updated_at = ?'];
    const params: (string | number)[] = [to, at];
    if (fields.identityType !== undefined) (sets.push('identity_type = ?'), params.push(fields.identityType));
    if (fields.identityNumber !== undefined) (sets.push('identity_number = ?'), params.push(fields.identityNumber));
    if (fields.fee !== undefined) (sets.push('fee = ?'), params.push(fields.fee));
    const n = await this.sql.execute(`UPDATE counter_applications SET ${sets.join(', ')} WHERE id = ? AND status = 'open' AND step = ?`, [...params, id, from]);
    return n === 1;
  }

  /** Completes an open application with its result. Returns false when it was no longer open. */
  async complete(id: number, result: Record<string, unknown>, at: number): Promise<boolean> {
    const n = await this.sql.execute(
      `UPDATE counter_applications SET status = 'completed', step = 'done', result = ?, completed_at = ?, updated_at = ?, device_lease_until = NULL
       WHERE id = ? AND status = 'open'`,
      [JSON.stringify(result), at, at, id],
    );
    return n === 1;
  }

  async cancel(id: number, at: number): Promise<boolean> {
    const n = await this.sql.execute(
      `UPDATE counter_applications SET status = 'cancelled', updated_at = ?, completed_at = ? WHERE id = ? AND status = 'open' AND (device_lease_until IS NULL OR device_lease_until < ?)`,
      [at, at, id, at],
    );
    return n === 1;
  }

  /**
   * Takes the device lease of an application waiting at the device step: while it is held, no other
   * request can start a card session for it. Returns false when not at that step or already leased.
   */
  async leaseDevice(id: number, now: number, until: number): Promise<boolean> {
    const n = await this.sql.execute(
      `UPDATE counter_applications SET device_lease_until = ? WHERE id = ? AND status = 'open' AND step = 'device' AND (device_lease_until IS NULL OR device_lease_until < ?)`,
      [until, id, now],
    );
    return n === 1;
  }

  async releaseDevice(id: number): Promise<void> {
    await this.sql.execute('UPDATE counter_applications SET device_lease_until = NULL WHERE id = ?', [id]);
  }

  /** Applications of a municipality created in [from, to), optionally of one operator, oldest first. */
  async applicationsBetween(municipality: string, from: number, to: number, operatorId?: string): Promise<ApplicationRecord[]> {
    const params: (string | number)[] = [municipality, from, to];
    let extra = '';
    if (operatorId) (extra = ' AND operator_id = ?'), params.push(operatorId);
    const rows = await this.sql.query<ApplicationRow>(
      `SELECT * FROM counter_applications WHERE municipality = ? AND created_at >= ? AND created_at < ?${extra} ORDER BY created_at, id`,
      params,
    );
    return rows.map(fromApplicationRow);
  }

  async applicationsOf(residentId: string, limit = 50): Promise<ApplicationRecord[]> {
    const rows = await this.sql.query<ApplicationRow>('SELECT * FROM counter_applications WHERE resident_id = ? ORDER BY created_at DESC, id DESC LIMIT ?', [residentId, limit]);
    return rows.map(fromApplicationRow);
  }

  // ---- receipts and notices --------------------------------------------------------------------------

  async insertDocument(d: DocumentRecord): Promise<void> {
    await this.sql.execute(
      `INSERT INTO counter_documents (number, type, application_id, municipality, resident_id, operator_id, amount, issued_at, content) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [d.number, d.type, d.applicationId, d.municipality, d.residentId, d.operatorId, d.amount, d.issuedAt, JSON.stringify(d.content)],
    );
  }

  async document(number: string): Promise<DocumentRecord | undefined> {
    const r = await this.sql.queryOne<DocumentRow>('SELECT * FROM counter_documents WHERE number = ?', [number]);
    return r && fromDocumentRow(r);
  }

  async documentsOf(applicationIds: readonly number[]): Promise<DocumentRecord[]> {
    if (applicationIds.length === 0) return [];
    const rows = await this.sql.query<DocumentRow>(
      `SELECT * FROM counter_documents WHERE application_id IN (${applicationIds.map(() => '?').join(', ')}) ORDER BY issued_at, number`,
      [...applicationIds],
    );
    return rows.map(fromDocumentRow);
  }

  // ---- key-pair generation devices -------------------------------------------------------------------

  async insertDevice(d: DeviceRecord): Promise<void> {
    await this.sql.execute('INSERT INTO counter_devices (id, municipality, name, uri, created_at) VALUES (?, ?, ?, ?, ?)', [d.id, d.municipality, d.name, d.uri, d.createdAt]);
  }

  async device(id: string): Promise<DeviceRecord | undefined> {
    const r = await this.sql.queryOne<{ id: string; municipality: string; name: string; uri: string; created_at: number }>('SELECT * FROM counter_devices WHERE id = ?', [id]);
    return r && { id: r.id, municipality: r.municipality, name: r.name, uri: r.uri, createdAt: Number(r.created_at) };
  }

  async devices(municipality?: string): Promise<DeviceRecord[]> {
    const rows = municipality
      ? await this.sql.query<{ id: string; municipality: string; name: string; uri: string; created_at: number }>('SELECT * FROM counter_devices WHERE municipality = ? ORDER BY id', [municipality])
      : await this.sql.query<{ id: string; municipality: string; name: string; uri: string; created_at: number }>('SELECT * FROM counter_devices ORDER BY municipality, id');
    return rows.map((r) => ({ id: r.id, municipality: r.municipality, name: r.name, uri: r.uri, createdAt: Number(r.created_at) }));
  }
}
