import { z } from 'zod';
import type { Clock } from '../common/clock.js';
import type { CardSignature } from './card-session.js';
import { ClientError } from './errors.js';

/**
 * Online revocation from the command line, through the portal's online window (the same API its page uses
 * with the agent): get a fresh challenge, have the card sign it, send signature and certificate.
 */
export interface OnlineRevocationOptions {
  /** The portal's base URL. */
  portal: string;
  key: 'sign' | 'auth';
  reason: string;
  clock: Clock;
  sign(content: Buffer): Promise<CardSignature>;
}

const Challenge = z.object({ id: z.string(), content: z.string(), expiresAt: z.string() });
const Notice = z.object({ serial: z.string(), issuer: z.string(), revokedAt: z.string(), reason: z.string(), noticeNumber: z.string() }).passthrough();
export type RevocationNotice = z.infer<typeof Notice>;

async function call<T>(url: string, body: unknown, schema: z.ZodType<T>): Promise<T> {
  let r: Response;
  try {
    r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
  } catch (e) {
    throw new ClientError('PORTAL_UNREACHABLE', 'unavailable', `the portal does not answer at ${url}: ${(e as Error).message}`);
  }
  const json = (await r.json().catch(() => ({}))) as { error?: string; message?: string };
  if (!r.ok) throw new ClientError(json.error ?? `HTTP_${r.status}`, r.status === 409 ? 'conflict' : r.status >= 500 ? 'unavailable' : 'malformed', json.message ?? `the portal answered HTTP ${r.status}`);
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new ClientError('PORTAL_ANSWER_INVALID', 'unavailable', `the portal's answer from ${url} is not what the online window sends`);
  return parsed.data;
}

export async function onlineRevocation(o: OnlineRevocationOptions): Promise<RevocationNotice> {
  const base = o.portal.replace(/\/+$/, '');
  const challenge = await call(`${base}/api/portal/online/challenges`, { purpose: 'revocation' }, Challenge);
  const signed = await o.sign(Buffer.from(challenge.content, 'base64'));
  return call(
    `${base}/api/portal/online/revocations`,
    { challengeId: challenge.id, signature: signed.signature.toString('base64'), certificate: signed.certificate.toString('base64'), reason: o.reason },
    Notice,
  );
}
