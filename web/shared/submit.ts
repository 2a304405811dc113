import { ApiError, newIdempotencyKey, type ApiResult } from './api.js';

/**
 * One form submission = one user action = one Idempotency-Key (docs/counter.md §7). The key is made when the
 * operator submits and is reused only to retry the same payload whose outcome is unknown (no answer came,
 * or the first request is still running); any answer from the server ends it, so the next submission gets
 * a new key. While a submission is in flight the form's buttons are disabled and further submits (a
 * double click, Enter pressed twice) are ignored. Nothing on the page moves until the answer comes (old
 * messages stay until `done`/`failed` replace them): a second click must land where the first did.
 */
export interface SubmitHandlers<P, R> {
  /** Reads and checks the form; undefined when a client-side check failed (it shows its own message). */
  collect(): P | undefined;
  send(payload: P, idempotencyKey: string): Promise<ApiResult<R>>;
  done(result: R, replayed: boolean): void | Promise<void>;
  failed(error: ApiError): void;
}

export interface IdempotentForm {
  /** Whether a retry of the last payload would reuse its key. */
  readonly pendingKey: string | undefined;
  readonly busy: boolean;
}

export function idempotentForm<P, R>(form: HTMLFormElement, handlers: SubmitHandlers<P, R>): IdempotentForm {
  let pending: { key: string; payload: string } | undefined;
  let busy = false;

  const buttons = () => Array.from(form.querySelectorAll<HTMLButtonElement>('button'));

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (busy) return;
    const payload = handlers.collect();
    if (payload === undefined) return;
    const fingerprint = JSON.stringify(payload);
    const key = pending && pending.payload === fingerprint ? pending.key : newIdempotencyKey();
    pending = { key, payload: fingerprint };
    // Synchronously, before the first await: the second click of a double click finds the button disabled.
    busy = true;
    const disabled = buttons().filter((b) => !b.disabled);
    for (const b of disabled) b.disabled = true;
    form.setAttribute('aria-busy', 'true');
    void (async () => {
      try {
        const { data, replayed } = await handlers.send(payload, key);
        pending = undefined;
        await handlers.done(data, replayed);
      } catch (e) {
        const error = e instanceof ApiError ? e : new ApiError(0, 'NETWORK', String(e));
        if (!error.outcomeUnknown) pending = undefined;
        handlers.failed(error);
      } finally {
        busy = false;
        for (const b of disabled) b.disabled = false;
        form.removeAttribute('aria-busy');
      }
    })();
  });

  return {
    get pendingKey() {
      return pending?.key;
    },
    get busy() {
      return busy;
    },
  };
}
