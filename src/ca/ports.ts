/**
 * What the CA side needs from the rest of the system — declared here, by the CA, and handed in by the
 * composition root (src/compose/services.ts). Nothing here is the whole store: the CA owns its own tables
 * (authorities, certificates, CRLs, the ledger, the status feed, the delegated OCSP responders, its receipts
 * of register events) and reads the register only through the narrow ports below.
 */
import type { ScopedStore } from '../store/index.js';

/** The CA's own tables, each call on its own or in a transaction of the CA's. */
export type CaStore = ScopedStore<
  | 'authorities'
  | 'certificates'
  | 'crls'
  | 'settings'
  | 'statusChanges'
  | 'ocspResponders'
  | 'ledger'
  | 'registerEventOutcomes'
  | 'record'
  | 'recordAll'
>;

/** The tables the CRL publisher writes and reads (all the CA's). */
export type CrlStore = ScopedStore<'authorities' | 'certificates' | 'crls' | 'ledger' | 'record'>;

/** One change of the resident register, as the CA needs to know it (ResidentRegister implements the source). */
export interface RegisterEvent {
  id: number;
  residentId: string;
  type: string;
  /** The certified facts the change altered (name, address, date of birth, sex, substitute flags). */
  changedFacts: readonly string[];
  /** Who recorded the change (the revocations it causes are audited as theirs). */
  actor: string;
}

/** The register's change events in order (the register's outbox). */
export interface RegisterEventSource {
  eventsAfter(afterId: number, limit: number): Promise<RegisterEvent[]>;
}

/** A municipality as the CA's resident-facts lint needs it (the register's lookup, src/register/). */
export interface MunicipalityInfo {
  code: string;
  /** JIS prefecture code, 2 digits. */
  prefecture: string;
  /** 港区 — the address must begin with the prefecture's name and this. */
  name: string;
  /** Minato-ku — the subject's second L=. */
  nameEn: string;
}

/** The register's municipality lookup (one list, the register's). */
export interface MunicipalityDirectory {
  byCode(code: string): MunicipalityInfo | undefined;
}
