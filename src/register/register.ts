import { randomBytes } from 'node:crypto';
import type { Clock } from '../common/clock.js';
import type { ResidentFacts } from '../pki/resident-facts.js';
import type { ResidentEventRecord, ResidentEventType, ResidentRecord, ResidentSearch, ResidentState, Scoped, ScopedStore } from '../store/index.js';
import { RegisterError } from './errors.js';
import {
  checkAddress,
  checkDate,
  checkDateOfBirth,
  checkName,
  checkSex,
  japanDate,
  normaliseAddress,
  normaliseName,
  requireMunicipality,
  substituteFlags,
} from './facts.js';
import { normaliseDigits, prefectureOf } from './municipalities.js';
import { isValidRecordCode, newRecordCode, recordCodeProblem } from './record-code.js';
import { RegisterImporter, type ImportOptions, type ImportResult } from './import.js';

export type Resident = ResidentRecord;

export interface NewResident {
  /** Surname and given name; any run of spaces between them becomes one full-width space. */
  name: string;
  nameSubstitute?: string;
  /** From the prefecture on: must begin with the municipality's prefecture and name. */
  address: string;
  addressSubstitute?: string;
  /** YYYY-MM-DD. */
  dateOfBirth: string;
  /** 1 male, 2 female. */
  sex: string;
  /** JIS local-government code, 5 digits. */
  municipality: string;
  /** Given when a resident moves in with a code already assigned; generated otherwise. */
  recordCode?: string;
  /** The day the resident was entered (default: today). */
  registeredOn?: string;
}

export interface MoveInput {
  address: string;
  addressSubstitute?: string;
  /** The municipality moved to (default: the same one: a move within the municipality). */
  municipality?: string;
  effectiveOn?: string;
}

export const RENAME_REASONS = ['marriage', 'divorce', 'adoption', 'other'] as const;
export type RenameReason = (typeof RENAME_REASONS)[number];

export interface RenameInput {
  name: string;
  nameSubstitute?: string;
  reason?: RenameReason;
  effectiveOn?: string;
}

/** A correction of a recording error: only the fields given change. */
export interface CorrectionInput {
  name?: string;
  nameSubstitute?: string;
  address?: string;
  addressSubstitute?: string;
  dateOfBirth?: string;
  sex?: string;
  /** Why the record was wrong (kept in the event). */
  reason: string;
}

export interface DeathInput {
  effectiveOn?: string;
}

export type MoveScope = 'within-municipality' | 'other-municipality' | 'other-prefecture';

/** The facts a signing certificate carries (profile §1.1): a change to any of them invalidates it. */
export const CERTIFIED_FACTS = ['name', 'nameSubstitute', 'address', 'addressSubstitute', 'dateOfBirth', 'sex'] as const;
export type CertifiedFact = (typeof CERTIFIED_FACTS)[number];

/** What one register event did. Whoever must act on it (the CA) follows the event feed (`eventsAfter`). */
export interface ResidentChange {
  /** The event's id in the register's feed. */
  eventId: number;
  type: Exclude<ResidentEventType, 'registered'>;
  before: Resident;
  after: Resident;
  changedFacts: CertifiedFact[];
  moveScope?: MoveScope;
  effectiveOn: string;
  actor: string;
}

/** The register's own tables (residents and their events) and the audit append. */
export type RegisterStore = ScopedStore<'residents' | 'record'>;
type RegisterTx = Scoped<'residents' | 'record'>;

/** One change event as the register's followers see it (the CA revokes what it invalidates). */
export interface RegisterEventSummary {
  id: number;
  residentId: string;
  type: string;
  changedFacts: string[];
  actor: string;
}

export interface RegisterDependencies {
  store: RegisterStore;
  clock: Clock;
}

const ID_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export function newResidentId(): string {
  return `R${Array.from(randomBytes(10), (b) => ID_ALPHABET[b & 31]).join('')}`;
}

export function stateOf(r: Resident): ResidentState {
  return {
    name: r.name,
    nameSubstitute: r.nameSubstitute,
    address: r.address,
    addressSubstitute: r.addressSubstitute,
    dateOfBirth: r.dateOfBirth,
    sex: r.sex,
    municipality: r.municipality,
    prefecture: r.prefecture,
    status: r.status,
  };
}

/**
 * The Basic Resident Register (住民基本台帳): residents and their change events. It records facts and
 * nothing else, each change in a transaction of its own with its event; what a change means for
 * certificates is decided by the CA, which follows the events (`eventsAfter`, ca/register-events.ts).
 */
export class ResidentRegister {
  constructor(private readonly deps: RegisterDependencies) {}

  private today(): string {
    return japanDate(this.deps.clock.now());
  }

  /** Checks and normalises a new resident; throws the first problem, naming the field. */
  prepareNew(input: NewResident): Omit<Resident, 'id' | 'recordCode' | 'version' | 'registeredAt' | 'updatedAt'> & { recordCode?: string; registeredOn: string } {
    const m = requireMunicipality(String(input.municipality ?? ''));
    const name = normaliseName(String(input.name ?? ''));
    checkName(name);
    const address = normaliseAddress(String(input.address ?? ''));
    checkAddress(address, m);
    const today = this.today();
    const dateOfBirth = checkDateOfBirth(String(input.dateOfBirth ?? ''), today);
    const registeredOn = input.registeredOn ? checkDate(input.registeredOn, 'registeredOn', today, { date: dateOfBirth, what: 'the date of birth' }) : today;
    const recordCode = input.recordCode === undefined ? undefined : normaliseDigits(input.recordCode);
    if (recordCode !== undefined && !isValidRecordCode(recordCode))
      throw new RegisterError('RESIDENT_INVALID', recordCodeProblem(input.recordCode!), { field: 'recordCode' });
    return {
      name,
      nameSubstitute: substituteFlags(input.nameSubstitute, name, 'nameSubstitute'),
      address,
      addressSubstitute: substituteFlags(input.addressSubstitute, address, 'addressSubstitute'),
      dateOfBirth,
      sex: checkSex(String(input.sex ?? '')),
      municipality: m.code,
      prefecture: prefectureOf(m).code,
      status: 'registered',
      registeredOn,
      ...(recordCode !== undefined ? { recordCode } : {}),
    };
  }

  /** Enters a resident (event 'registered'). */
  async add(input: NewResident, actor: string): Promise<Resident> {
    return this.deps.store.transaction((tx) => this.addIn(tx, input, actor));
  }

  private async addIn(tx: RegisterTx, input: NewResident, actor: string): Promise<Resident> {
    const p = this.prepareNew(input);
    let recordCode = p.recordCode;
    if (recordCode !== undefined) {
      if (await tx.residents.recordCodeExists(recordCode))
        throw new RegisterError('RECORD_CODE_TAKEN', `the resident-record code ${recordCode} is already used`, { recordCode });
    } else {
      do recordCode = newRecordCode();
      while (await tx.residents.recordCodeExists(recordCode));
    }
    let id = newResidentId();
    while (await tx.residents.get(id)) id = newResidentId();
    const now = this.deps.clock.now().getTime();
    const { registeredOn, recordCode: _given, ...facts } = p;
    const resident: Resident = { id, recordCode, ...facts, version: 1, registeredAt: now, updatedAt: now };
    await tx.residents.insert(resident);
    await tx.residents.appendEvent({
      residentId: id,
      version: 1,
      type: 'registered',
      effectiveOn: registeredOn,
      recordedAt: now,
      actor,
      before: null,
      after: stateOf(resident),
      details: {},
    });
    await tx.record({ actor, action: 'register.add', target: `resident:${id}`, details: { municipality: resident.municipality } });
    return resident;
  }

  /**
   * Enters many residents in one transaction: all of them, or (on the first bad one) none. `lines` gives
   * each entry's line in the source file for the error message.
   */
  async addAll(inputs: readonly NewResident[], actor: string, lines?: readonly number[]): Promise<Resident[]> {
    return this.deps.store.transaction(async (tx) => {
      const out: Resident[] = [];
      for (const [i, input] of inputs.entries()) {
        try {
          out.push(await this.addIn(tx, input, actor));
        } catch (e) {
          if (!(e instanceof RegisterError)) throw e;
          const line = lines?.[i] ?? i + 1;
          throw new RegisterError('REGISTER_IMPORT_INVALID', `line ${line}: ${e.message}`, { ...e.params, line, reason: e.code });
        }
      }
      return out;
    });
  }

  /**
   * Loads a CSV file of residents in bulk (`jpki register import`): every row is checked first and every bad
   * one reported with its line (nothing is loaded then); the rows are then loaded in batches, each batch
   * atomic with the import's position, so a second run of the same file goes on where the first stopped.
   */
  async importCsv(text: string, actor: string, options: ImportOptions = {}): Promise<ImportResult> {
    return new RegisterImporter(this.deps, (input) => this.prepareNew(input)).run(text, actor, options);
  }

  /**
   * A resident named either way (issue 11): the register's internal id (`R…`) or the resident-record code
   * (住民票コード, 11 digits, as people type it: hyphens, spaces, full-width digits) that papers show.
   */
  async find(ref: string, sql: Pick<RegisterTx, 'residents'> = this.deps.store): Promise<Resident | undefined> {
    const digits = normaliseDigits(ref);
    if (/^\d{11}$/.test(digits)) return sql.residents.byRecordCode(digits);
    return sql.residents.get(ref);
  }

  async get(ref: string, sql: Pick<RegisterTx, 'residents'> = this.deps.store): Promise<Resident> {
    const r = await this.find(ref, sql);
    if (!r)
      throw new RegisterError(
        'RESIDENT_NOT_FOUND',
        /^\d{11}$/.test(ref) ? `no resident with the resident-record code ${ref} in the register` : `no resident with id ${JSON.stringify(ref)} in the register`,
        { residentId: ref },
      );
    return r;
  }

  async search(q: ResidentSearch = {}): Promise<Resident[]> {
    // a record code as people type it (hyphens, spaces, full-width digits)
    const digits = q.text !== undefined ? normaliseDigits(q.text) : '';
    return this.deps.store.residents.search(/^\d{11}$/.test(digits) ? { ...q, text: digits } : q);
  }

  async events(ref: string): Promise<ResidentEventRecord[]> {
    const r = await this.get(ref);
    return this.deps.store.residents.events(r.id);
  }

  /** Change events after `afterId`, oldest first: the feed the CA follows. */
  async eventsAfter(afterId: number, limit = 500): Promise<RegisterEventSummary[]> {
    return (await this.deps.store.residents.eventsAfter(afterId, limit)).map((e) => ({
      id: e.id,
      residentId: e.residentId,
      type: e.type,
      changedFacts: Array.isArray(e.details.changedFacts) ? (e.details.changedFacts as string[]) : [],
      actor: e.actor,
    }));
  }

  /** How many residents the register holds (in one municipality). */
  async count(municipality?: string): Promise<number> {
    return this.deps.store.residents.count(municipality);
  }

  /** The four facts as the signing certificate carries them. */
  facts(r: Resident): ResidentFacts {
    return {
      name: r.name,
      nameSubstitute: r.nameSubstitute,
      sex: r.sex,
      dateOfBirth: r.dateOfBirth,
      address: r.address,
      addressSubstitute: r.addressSubstitute,
    };
  }

  // ---- change events, each in its own transaction ----------------------------------------------------

  move(id: string, input: MoveInput, actor: string): Promise<ResidentChange> {
    return this.deps.store.transaction((tx) => this.moveIn(tx, id, input, actor));
  }

  rename(id: string, input: RenameInput, actor: string): Promise<ResidentChange> {
    return this.deps.store.transaction((tx) => this.renameIn(tx, id, input, actor));
  }

  correct(id: string, input: CorrectionInput, actor: string): Promise<ResidentChange> {
    return this.deps.store.transaction((tx) => this.correctIn(tx, id, input, actor));
  }

  death(id: string, input: DeathInput, actor: string): Promise<ResidentChange> {
    return this.deps.store.transaction((tx) => this.deathIn(tx, id, input, actor));
  }

  /** 転居 / 転出入: a new address, in the same municipality or another one (of any prefecture). */
  private async moveIn(tx: RegisterTx, id: string, input: MoveInput, actor: string): Promise<ResidentChange> {
    const before = await this.living(tx, id);
    const m = requireMunicipality(input.municipality ?? before.municipality);
    const address = normaliseAddress(String(input.address ?? ''));
    checkAddress(address, m);
    const next: ResidentState = {
      ...stateOf(before),
      address,
      addressSubstitute: substituteFlags(input.addressSubstitute, address, 'addressSubstitute'),
      municipality: m.code,
      prefecture: prefectureOf(m).code,
    };
    const moveScope: MoveScope = m.code === before.municipality ? 'within-municipality' : next.prefecture === before.prefecture ? 'other-municipality' : 'other-prefecture';
    return this.apply(tx, before, next, 'move', this.effectiveOn(input.effectiveOn, before), actor, { moveScope, from: before.municipality, to: m.code }, moveScope);
  }

  /** A new name (marriage, divorce, adoption…). */
  private async renameIn(tx: RegisterTx, id: string, input: RenameInput, actor: string): Promise<ResidentChange> {
    const before = await this.living(tx, id);
    const name = normaliseName(String(input.name ?? ''));
    checkName(name);
    const next: ResidentState = { ...stateOf(before), name, nameSubstitute: substituteFlags(input.nameSubstitute, name, 'nameSubstitute') };
    return this.apply(tx, before, next, 'rename', this.effectiveOn(input.effectiveOn, before), actor, { reason: input.reason ?? 'other' });
  }

  /** Corrects a recording error; the address stays in the same municipality (moving is `moveIn`). */
  private async correctIn(tx: RegisterTx, id: string, input: CorrectionInput, actor: string): Promise<ResidentChange> {
    const before = await this.living(tx, id);
    const reason = String(input.reason ?? '').trim();
    if (!reason) throw new RegisterError('RESIDENT_INVALID', 'a correction needs its reason', { field: 'reason' });
    const next = stateOf(before);
    if (input.name !== undefined) {
      next.name = normaliseName(input.name);
      checkName(next.name);
      next.nameSubstitute = substituteFlags(input.nameSubstitute, next.name, 'nameSubstitute');
    } else if (input.nameSubstitute !== undefined) next.nameSubstitute = substituteFlags(input.nameSubstitute, next.name, 'nameSubstitute');
    if (input.address !== undefined) {
      next.address = normaliseAddress(input.address);
      checkAddress(next.address, requireMunicipality(before.municipality));
      next.addressSubstitute = substituteFlags(input.addressSubstitute, next.address, 'addressSubstitute');
    } else if (input.addressSubstitute !== undefined) next.addressSubstitute = substituteFlags(input.addressSubstitute, next.address, 'addressSubstitute');
    if (input.dateOfBirth !== undefined) next.dateOfBirth = checkDateOfBirth(input.dateOfBirth, this.today());
    if (input.sex !== undefined) next.sex = checkSex(input.sex);
    return this.apply(tx, before, next, 'correction', this.today(), actor, { reason });
  }

  /** 死亡: the record is kept, closed to further change. */
  private async deathIn(tx: RegisterTx, id: string, input: DeathInput, actor: string): Promise<ResidentChange> {
    const before = await this.living(tx, id);
    const next: ResidentState = { ...stateOf(before), status: 'deceased' };
    return this.apply(tx, before, next, 'death', this.effectiveOn(input.effectiveOn, before), actor, {});
  }

  private async living(tx: RegisterTx, id: string): Promise<Resident> {
    const r = await this.get(id, tx);
    if (r.status === 'deceased') throw new RegisterError('RESIDENT_DECEASED', `resident ${id} has died; the record takes no further change`, { residentId: id });
    return r;
  }

  private effectiveOn(given: string | undefined, r: Resident): string {
    return given === undefined ? this.today() : checkDate(given, 'effectiveOn', this.today(), { date: r.dateOfBirth, what: 'the date of birth' });
  }

  private async apply(
    tx: RegisterTx,
    before: Resident,
    next: ResidentState,
    type: ResidentChange['type'],
    effectiveOn: string,
    actor: string,
    details: Record<string, unknown>,
    moveScope?: MoveScope,
  ): Promise<ResidentChange> {
    const changedFacts = CERTIFIED_FACTS.filter((f) => before[f] !== next[f]);
    const unchanged = changedFacts.length === 0 && before.municipality === next.municipality && before.status === next.status;
    if (unchanged) throw new RegisterError('RESIDENT_UNCHANGED', `the ${type} would change nothing recorded for resident ${before.id}`, { residentId: before.id });
    const now = this.deps.clock.now().getTime();
    if (!(await tx.residents.update(before.id, before.version, next, now)))
      throw new RegisterError('RESIDENT_CHANGED_CONCURRENTLY', `resident ${before.id} was changed by someone else meanwhile; look again and retry`, { residentId: before.id });
    const after: Resident = { ...before, ...next, version: before.version + 1, updatedAt: now };
    const eventId = await tx.residents.appendEvent({
      residentId: before.id,
      version: after.version,
      type,
      effectiveOn,
      recordedAt: now,
      actor,
      before: stateOf(before),
      after: stateOf(after),
      details: { ...details, changedFacts },
    });
    await tx.record({ actor, action: `register.${type}`, target: `resident:${before.id}`, details: { ...details, changedFacts, event: eventId } });
    return { eventId, type, before, after, changedFacts, effectiveOn, actor, ...(moveScope ? { moveScope } : {}) };
  }
}
