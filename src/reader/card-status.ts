import { JpkiError, type ErrorKind } from '../common/errors.js';
import { describeStatusWord, SW, type PinName } from '../card/index.js';

/**
 * Status words → domain errors, in one function (OpenSC's pkcs11/misc.c does the same for PKCS#11 return
 * values). The same SW means different things depending on what was asked: 63 Cx after VERIFY is a wrong PIN,
 * after EXTERNAL AUTHENTICATE a wrong issuer cryptogram; 6A 88 is an unset PIN or a missing key.
 */
export type CommandTopic =
  | { kind: 'pin'; pin: PinName }
  | { kind: 'issuer-authentication' }
  | { kind: 'key'; key: PinName }
  | { kind: 'file'; what: string }
  | { kind: 'other'; what: string };

export class CardStatusError extends JpkiError {
  constructor(
    readonly sw: number,
    code: string,
    kind: ErrorKind,
    message: string,
    params: Record<string, string | number> = {},
  ) {
    super(`card.${code}`, kind, message, { sw, ...params });
  }
}

/** Wrong PIN; `triesLeft` more attempts before it locks. */
export class PinIncorrectError extends CardStatusError {
  constructor(
    sw: number,
    readonly pin: PinName,
    readonly triesLeft: number,
  ) {
    super(sw, 'pin-incorrect', 'unauthenticated', `wrong ${pinWords(pin)}: ${triesLeft} ${triesLeft === 1 ? 'try' : 'tries'} left before it locks`, { pin, triesLeft });
  }
}

/** The PIN is locked (just now, or before): only the issuer (the municipal counter) can release it. */
export class PinBlockedError extends CardStatusError {
  constructor(
    sw: number,
    readonly pin: PinName,
    /** true when this very attempt used the last try. */
    readonly justBlocked: boolean,
  ) {
    super(sw, 'pin-blocked', 'locked', `the ${pinWords(pin)} is locked${justBlocked ? ' (that was the last try)' : ''}; the municipal counter can release it`, { pin });
  }
}

/** A blank card: the issuer has not set this PIN yet. */
export class PinNotSetError extends CardStatusError {
  constructor(
    sw: number,
    readonly pin: PinName,
  ) {
    super(sw, 'pin-not-set', 'conflict', `the ${pinWords(pin)} has not been set on this card yet`, { pin });
  }
}

export class PinFormatError extends CardStatusError {
  constructor(
    sw: number,
    readonly pin: PinName,
    rule: string,
  ) {
    super(sw, 'pin-format', 'malformed', `the ${pinWords(pin)} must be ${rule}`, { pin });
  }
}

/** 69 82: the command needs a PIN (or the issuer) verified in this session first. */
export class SecurityStatusNotSatisfiedError extends CardStatusError {
  constructor(sw: number, what: string) {
    super(sw, 'security-status', 'unauthenticated', `${what}: security status not satisfied (verify the PIN, or authenticate as issuer, first)`);
  }
}

export class CardFileNotFoundError extends CardStatusError {
  constructor(sw: number, what: string) {
    super(sw, 'file-not-found', 'not-found', `${what}: not on the card`);
  }
}

export class KeyNotFoundError extends CardStatusError {
  constructor(
    sw: number,
    readonly key: PinName,
  ) {
    super(sw, 'no-key', 'not-found', `the card holds no ${key === 'sign' ? 'signing' : 'user-authentication'} key yet`, { key });
  }
}

export class IssuerAuthenticationFailedError extends CardStatusError {
  constructor(
    sw: number,
    readonly triesLeft: number,
  ) {
    super(sw, 'issuer-authentication-failed', 'unauthenticated', `the card refused the issuer key: ${triesLeft} tries left before the issuer interface locks`, { triesLeft });
  }
}

export class IssuerLockedError extends CardStatusError {
  constructor(sw: number) {
    super(sw, 'issuer-locked', 'locked', 'the card\u2019s issuer interface is locked after too many failed authentications; the card cannot be personalised any more');
  }
}

/** 65 81: the card could not write its memory; the command had no effect. */
export class CardMemoryError extends CardStatusError {
  constructor(sw: number, what: string) {
    super(sw, 'memory-failure', 'unavailable', `${what}: the card could not write its memory; nothing was changed`);
  }
}

/** Null for 90 00; otherwise the error that says what the status word means for this command. */
export function statusError(sw: number, topic: CommandTopic, pinRule?: string): CardStatusError | null {
  if (sw === SW.OK) return null;
  const what = describeTopic(topic);
  const triesLeft = (sw & 0xfff0) === SW.TRIES_LEFT ? sw & 0x0f : null;
  if (topic.kind === 'pin') {
    if (triesLeft !== null) return triesLeft === 0 ? new PinBlockedError(sw, topic.pin, true) : new PinIncorrectError(sw, topic.pin, triesLeft);
    if (sw === SW.REFERENCE_DATA_NOT_USABLE || sw === SW.AUTHENTICATION_METHOD_BLOCKED) return new PinBlockedError(sw, topic.pin, false);
    if (sw === SW.REFERENCE_DATA_NOT_FOUND) return new PinNotSetError(sw, topic.pin);
    if (sw === SW.WRONG_DATA) return new PinFormatError(sw, topic.pin, pinRule ?? 'in the right format');
  }
  if (topic.kind === 'issuer-authentication') {
    if (triesLeft !== null) return triesLeft === 0 ? new IssuerLockedError(sw) : new IssuerAuthenticationFailedError(sw, triesLeft);
    if (sw === SW.AUTHENTICATION_METHOD_BLOCKED) return new IssuerLockedError(sw);
  }
  if (topic.kind === 'key' && sw === SW.REFERENCE_DATA_NOT_FOUND) return new KeyNotFoundError(sw, topic.key);
  switch (sw) {
    case SW.SECURITY_STATUS_NOT_SATISFIED:
      return new SecurityStatusNotSatisfiedError(sw, what);
    case SW.FILE_NOT_FOUND:
      return new CardFileNotFoundError(sw, what);
    case SW.MEMORY_FAILURE:
      return new CardMemoryError(sw, what);
    default:
      return new CardStatusError(sw, 'status', 'internal', `${what}: the card answered ${describeStatusWord(sw)}`);
  }
}

function describeTopic(topic: CommandTopic): string {
  switch (topic.kind) {
    case 'pin':
      return pinWords(topic.pin);
    case 'issuer-authentication':
      return 'issuer authentication';
    case 'key':
      return `${topic.key} key`;
    default:
      return topic.what;
  }
}

function pinWords(pin: PinName): string {
  return pin === 'sign' ? 'signing password (署名用パスワード)' : 'user-authentication PIN (利用者証明用暗証番号)';
}
