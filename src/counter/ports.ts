/**
 * What the municipal counter (the registration authority) needs from the rest of the system, declared here
 * and handed in by the composition root: its own tables, and narrow front doors of the CA, the register
 * and the card issuer. The counter never holds the whole store and never joins a transaction of another
 * module: a step that spans modules is a sequence of their own transactions (docs/counter.md).
 */
import type { CertificationAuthorities } from '../ca/certification-authorities.js';
import type { RegisterEventHandler } from '../ca/register-events.js';
import type { ResidentRegister } from '../register/index.js';
import type { Scoped, ScopedStore } from '../store/index.js';

export type { CardIssuer } from '../card/index.js';

/** The counter's own tables: operators and sessions, applications and papers, devices, submissions. */
export type CounterStore = ScopedStore<'counterRecords' | 'operators' | 'submissions' | 'record'>;
export type CounterTx = Scoped<'counterRecords' | 'operators' | 'submissions' | 'record'>;

/** The CA as the counter uses it: reserve → sign → confirm / abandon, revocation, and what a resident holds. */
export type CounterCa = Pick<CertificationAuthorities, 'reserve' | 'sign' | 'confirm' | 'abandon' | 'revokeAll' | 'certificatesOf' | 'liveOnCard' | 'findCertificate' | 'get'>;

/** The register as the counter uses it: look-ups and the change events (the CA handles their consequences). */
export type CounterRegister = Pick<
  ResidentRegister,
  'get' | 'find' | 'search' | 'events' | 'facts' | 'add' | 'move' | 'rename' | 'correct' | 'death' | 'count'
>;

/** Waits until the CA has handled a register event, and says what it revoked. */
export type RegisterEventSettlement = Pick<RegisterEventHandler, 'settle'>;
