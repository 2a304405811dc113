import type { ApiClient, ApiError } from '../shared/api.js';
import type { Ui } from '../shared/dom.js';
import type { SharedKey } from '../shared/messages.js';
import type { CounterKey } from './messages.js';
import type { SupervisorKey } from './supervisor-messages.js';
import type { OperatorView } from './types.js';

export type Key = CounterKey | SupervisorKey | SharedKey;

/** The logged-in operator and the CSRF token of the cookie session (kept in memory only; GET /me gives it again). */
export interface Session {
  operator: OperatorView | null;
  csrfToken: string | null;
}

/** What every screen of the counter terminal works with. */
export interface Terminal {
  ui: Ui<Key>;
  api: ApiClient;
  session: Session;
  /** Goes to a screen (`#/residents/…`). */
  go(hash: string): void;
  /** Logged in or out: redraws the header. */
  sessionChanged(): void;
  /** The server says the session is gone: back to the login screen, with its message. */
  sessionEnded(e: ApiError): void;
}

/** A screen: built from the route's parts; may throw ApiError (the router shows it). */
export type View = (t: Terminal, params: string[], query: URLSearchParams) => Promise<HTMLElement>;
