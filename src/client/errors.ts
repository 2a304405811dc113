import { JpkiError, type ErrorKind } from '../common/errors.js';
import type { PinName } from '../card/index.js';
import { PinBlockedError, PinIncorrectError, ReaderError } from '../reader/index.js';

/**
 * The user client software's errors: one stable code each, a message for the resident. Card answers are
 * translated here once (wrong PIN → tries left, locked PIN → the counter's lock-release application), so the
 * CLI, the agent and the local web UI say the same thing.
 */
export class ClientError extends JpkiError {
  constructor(code: string, kind: ErrorKind, message: string, params: Record<string, string | number> = {}, cause?: unknown) {
    super(code, kind, message, params, cause === undefined ? undefined : { cause });
  }
}

const PIN_WORDS: Record<PinName, string> = {
  sign: '署名用パスワード (signing password)',
  auth: '利用者証明用暗証番号 (user-authentication PIN)',
};

/** Card and reader failures in the resident's words; anything else passes through unchanged. */
export function clientErrorOf(e: unknown): unknown {
  if (e instanceof ClientError) return e;
  if (e instanceof PinIncorrectError) {
    return new ClientError('PIN_INCORRECT', 'unauthenticated', `wrong ${PIN_WORDS[e.pin]}: ${e.triesLeft} ${e.triesLeft === 1 ? 'try' : 'tries'} left before it locks`, { pin: e.pin, triesLeft: e.triesLeft }, e);
  }
  if (e instanceof PinBlockedError) return pinLocked(e.pin, e);
  if (e instanceof ReaderError) return new ClientError('CARD_ABSENT', 'unavailable', `no card: ${e.message}`, {}, e);
  return e;
}

export function pinLocked(pin: PinName, cause?: unknown): ClientError {
  return new ClientError(
    'PIN_LOCKED',
    'locked',
    `the ${PIN_WORDS[pin]} is locked; take the card to your municipal counter and make a lock-release application (ロック解除申請)`,
    { pin },
    cause,
  );
}
