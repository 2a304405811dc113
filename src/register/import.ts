import { createHash } from 'node:crypto';
import { isUniqueViolation, type RegisterImportRecord } from '../store/index.js';
import { csvRows, importHeader, residentFromRow } from './csv.js';
import { RegisterError } from './errors.js';
import { newRecordCode } from './record-code.js';
import { newResidentId, stateOf, type NewResident, type RegisterDependencies, type Resident } from './register.js';

/** One bad row of an import file. */
export interface ImportProblem {
  line: number;
  code: string;
  field?: string;
  message: string;
}

export interface ImportProgress {
  phase: 'checking' | 'loading';
  /** Rows checked or loaded (loading: counting rows an earlier run loaded). */
  done: number;
  total: number;
}

export interface ImportOptions {
  /** Rows per transaction (default 5,000). */
  batchSize?: number;
  /** The file's name, kept with the import's record. */
  source?: string;
  onProgress?: (p: ImportProgress) => void;
  /** Stop after this many batches (tests of resuming: a run that dies half-way). */
  stopAfterBatches?: number;
}

export interface ImportResult {
  /** SHA-256 of the file: the import's id. */
  importId: string;
  /** Data rows in the file. */
  total: number;
  /** Rows this run loaded. */
  loaded: number;
  /** Rows an earlier run of the same file had loaded (skipped now). */
  skipped: number;
  batches: number;
  /** Every row of the file is in the register. */
  complete: boolean;
}

/** Thrown when any row is bad: every problem, by line; nothing was loaded. */
export class ImportRejected extends RegisterError {
  constructor(readonly problems: ImportProblem[]) {
    super(
      'REGISTER_IMPORT_INVALID',
      problems.length === 1 ? `line ${problems[0]!.line}: ${problems[0]!.message}; nothing was loaded` : `${problems.length} rows are not acceptable (the first: line ${problems[0]!.line}: ${problems[0]!.message}); nothing was loaded`,
      { rows: problems.length, line: problems[0]!.line, ...(problems[0]!.field ? { field: problems[0]!.field } : {}) },
    );
  }
}

type Prepared = ReturnType<ConstructorParameters<typeof RegisterImporter>[1]>;

const PROGRESS_EVERY = 5000;

/**
 * The bulk path of the register (issue 12). Two passes over the file:
 *
 * 1. **Check everything first.** Every row goes through the register's own rules (`prepareNew`: the same
 *    validator as `register add` and the CA's lint); resident-record codes given in the file must be unique in
 *    it and not taken in the register. Every bad row is reported with its line; if there is one, nothing is
 *    loaded.
 * 2. **Load in batches.** Each batch (default 5,000 rows) is one transaction: the residents, their
 *    'registered' events, one audit record for the batch, and the import's new position (register_imports,
 *    keyed by the file's SHA-256). A run that stops leaves whole batches only; running the same file again
 *    skips the rows already loaded and goes on.
 */
export class RegisterImporter {
  constructor(
    private readonly deps: RegisterDependencies,
    private readonly prepare: (input: NewResident) => Omit<Resident, 'id' | 'recordCode' | 'version' | 'registeredAt' | 'updatedAt'> & { recordCode?: string; registeredOn: string },
  ) {}

  async run(text: string, actor: string, options: ImportOptions = {}): Promise<ImportResult> {
    const importId = createHash('sha256').update(text).digest('hex');
    const batchSize = Math.max(1, Math.min(options.batchSize ?? 5000, 50_000));
    const store = this.deps.store;
    const before = await store.residents.importRecord(importId);
    const resumeAfter = before?.lastLine ?? 0;

    // ---- 1. check every row --------------------------------------------------------------------------
    const problems: ImportProblem[] = [];
    const givenCodes = new Map<string, number>();
    const toCheckInStore: { code: string; line: number }[] = [];
    let total = 0;
    const rows = csvRows(text);
    const first = rows.next();
    const header = importHeader(first.done ? undefined : first.value);
    const problem = (line: number, e: unknown) => {
      if (!(e instanceof RegisterError)) throw e;
      const message = e.message.replace(/^line \d+: /, '');
      problems.push({ line, code: e.code, ...(typeof e.params.field === 'string' ? { field: e.params.field } : {}), message });
    };
    for (const row of rows) {
      total++;
      try {
        const p = this.prepare(residentFromRow(header, row));
        if (p.recordCode !== undefined) {
          const seen = givenCodes.get(p.recordCode);
          if (seen !== undefined) throw new RegisterError('RECORD_CODE_TAKEN', `the resident-record code ${p.recordCode} is given on line ${seen} too`, { field: 'record_code' });
          givenCodes.set(p.recordCode, row.line);
          if (row.line > resumeAfter) toCheckInStore.push({ code: p.recordCode, line: row.line });
        }
      } catch (e) {
        problem(row.line, e);
      }
      if (total % PROGRESS_EVERY === 0) options.onProgress?.({ phase: 'checking', done: total, total: 0 });
    }
    options.onProgress?.({ phase: 'checking', done: total, total });
    const taken = await store.residents.existingRecordCodes(toCheckInStore.map((c) => c.code));
    for (const c of toCheckInStore)
      if (taken.has(c.code)) problems.push({ line: c.line, code: 'RECORD_CODE_TAKEN', field: 'record_code', message: `the resident-record code ${c.code} is already used in the register` });
    if (problems.length > 0) throw new ImportRejected(problems.sort((a, b) => a.line - b.line));

    // ---- 2. load in batches, each with the import's position -------------------------------------------
    const now = () => this.deps.clock.now().getTime();
    const record: RegisterImportRecord = before ?? {
      id: importId,
      source: options.source ?? '',
      totalRows: total,
      loadedRows: 0,
      lastLine: 0,
      startedAt: now(),
      updatedAt: now(),
      finishedAt: null,
    };
    const skipped = record.loadedRows;
    let loaded = 0;
    let batches = 0;
    let batch: { line: number; p: Prepared }[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      await this.loadBatch(batch, record, actor, importId);
      loaded += batch.length;
      batches++;
      batch = [];
      options.onProgress?.({ phase: 'loading', done: record.loadedRows, total });
    };
    options.onProgress?.({ phase: 'loading', done: record.loadedRows, total });
    const again = csvRows(text);
    again.next();
    for (const row of again) {
      if (row.line <= record.lastLine) continue;
      batch.push({ line: row.line, p: this.prepare(residentFromRow(header, row)) });
      if (batch.length >= batchSize) {
        await flush();
        if (options.stopAfterBatches !== undefined && batches >= options.stopAfterBatches) return { importId, total, loaded, skipped, batches, complete: false };
      }
    }
    await flush();
    if (record.finishedAt === null) {
      record.finishedAt = now();
      record.updatedAt = record.finishedAt;
      await store.transaction(async (tx) => {
        await tx.residents.saveImportRecord(record);
        await tx.record({ actor, action: 'register.import.finish', target: `import:${importId}`, details: { source: record.source, rows: total } });
      });
    }
    return { importId, total, loaded, skipped, batches, complete: true };
  }

  /** One batch in one transaction: residents, their events, an audit record, the import's position. */
  private async loadBatch(batch: readonly { line: number; p: Prepared }[], record: RegisterImportRecord, actor: string, importId: string): Promise<void> {
    const store = this.deps.store;
    for (let attempt = 1; ; attempt++) {
      // ids and record codes for the rows, none taken in the batch or the register (checked before the write;
      // the unique indexes stay the last word: a clash with a concurrent writer retries the batch)
      const ids = batch.map(() => newResidentId());
      const codes = batch.map(({ p }) => p.recordCode ?? newRecordCode());
      const generated = batch.map(({ p }) => p.recordCode === undefined);
      for (;;) {
        const takenIds = await store.residents.existingIds(ids);
        const takenCodes = await store.residents.existingRecordCodes(codes.filter((_, i) => generated[i]));
        const seenIds = new Set<string>();
        const seenCodes = new Set<string>(codes.filter((_, i) => !generated[i]));
        let clash = false;
        for (let i = 0; i < batch.length; i++) {
          if (takenIds.has(ids[i]!) || seenIds.has(ids[i]!)) ((ids[i] = newResidentId()), (clash = true));
          seenIds.add(ids[i]!);
          if (generated[i] && (takenCodes.has(codes[i]!) || seenCodes.has(codes[i]!))) ((codes[i] = newRecordCode()), (clash = true));
          if (generated[i]) seenCodes.add(codes[i]!);
        }
        if (!clash) break;
      }
      const at = this.deps.clock.now().getTime();
      const residents: Resident[] = batch.map(({ p }, i) => {
        const { registeredOn: _on, recordCode: _code, ...facts } = p;
        return { id: ids[i]!, recordCode: codes[i]!, ...facts, version: 1, registeredAt: at, updatedAt: at };
      });
      const next: RegisterImportRecord = { ...record, loadedRows: record.loadedRows + batch.length, lastLine: batch.at(-1)!.line, updatedAt: at };
      try {
        await store.transaction(async (tx) => {
          // the position is read again inside: two runs of one file at once must not both load a batch
          const current = await tx.residents.importRecord(importId);
          if ((current?.lastLine ?? 0) !== record.lastLine)
            throw new RegisterError('REGISTER_IMPORT_INVALID', `another run of this import file moved on (to line ${current?.lastLine}): run it again to go on from there`, { line: current?.lastLine ?? 0 });
          await tx.residents.insertMany(residents);
          await tx.residents.appendEvents(
            residents.map((r, i) => ({
              residentId: r.id,
              version: 1,
              type: 'registered' as const,
              effectiveOn: batch[i]!.p.registeredOn,
              recordedAt: at,
              actor,
              before: null,
              after: stateOf(r),
              details: { import: importId.slice(0, 16), line: batch[i]!.line },
            })),
          );
          await tx.residents.saveImportRecord(next);
          await tx.record({
            actor,
            action: 'register.import',
            target: `import:${importId}`,
            details: { source: record.source, rows: batch.length, fromLine: batch[0]!.line, toLine: next.lastLine, firstResident: ids[0]!, lastResident: ids.at(-1)! },
          });
        });
        Object.assign(record, next);
        return;
      } catch (e) {
        if (attempt < 3 && isUniqueViolation(e)) continue;
        throw e;
      }
    }
  }
}

