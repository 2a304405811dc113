import type { z } from 'zod';
import { JpkiError } from '../../common/errors.js';

/**
 * A request part checked with zod, or a 400 with the route's code naming the first thing wrong
 * (`invalid request: form.name: required`). Routes call it on bodies, queries and path parameters.
 */
export function parseRequest<T>(schema: z.ZodType<T>, value: unknown, code: string): T {
  const r = schema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new JpkiError(code, 'malformed', `invalid request: ${issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'invalid'}`);
  }
  return r.data;
}
