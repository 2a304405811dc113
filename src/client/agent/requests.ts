import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../../common/clock.js';
import { ClientError } from '../errors.js';

/**
 * The agent's pending requests (docs/agent-protocol.md): made by an allow-listed page, approved or refused by
 * the resident in the agent's own window, read back once by the page that made them. Everything lives in
 * memory only: a request is one-time, expires two minutes after creation, and is gone once its final state
 * has been delivered.
 */
export const REQUEST_LIFETIME_MS = 2 * 60_000;
export const MAX_CONTENT_BYTES = 1 << 20;
export const MAX_SUMMARY_CHARS = 200;

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64');

export const AgentRequestBody = z.discriminatedUnion('type', [
  z.object({ type: z.literal('certificate'), key: z.enum(['sign', 'auth']) }).strict(),
  z
    .object({
      type: z.literal('sign'),
      key: z.enum(['sign', 'auth']),
      content: base64.max(Math.ceil(MAX_CONTENT_BYTES / 3) * 4),
      contentType: z.string().min(1).max(100).regex(/^[\x21-\x7e]+(; ?[\x20-\x7e]+)?$/, 'a media type'),
      summary: z.string().min(1).max(MAX_SUMMARY_CHARS).refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'no control characters'),
    })
    .strict(),
]);
export type AgentRequestBody = z.infer<typeof AgentRequestBody>;

export type RequestState = 'pending' | 'done' | 'refused' | 'expired' | 'failed';

export interface AgentResult {
  certificate: string;
  signature?: string;
}

export interface AgentRequest {
  id: string;
  origin: string;
  body: AgentRequestBody;
  /** The bytes to sign (decoded once). */
  content: Buffer | null;
  /** SHA-256 of `content`, shown to the resident. */
  contentSha256: string | null;
  /** A secret of the agent's own approval form: only a page the agent served can post a decision. */
  formToken: string;
  createdAt: number;
  expiresAt: number;
  state: RequestState;
  /** The card is being used for this request right now (no second approval meanwhile). */
  working: boolean;
  result?: AgentResult;
  error?: { code: string; message: string };
}

export interface RequestAnswer {
  state: RequestState;
  result?: AgentResult;
  error?: { code: string; message: string };
}

export class RequestRegistry {
  private readonly requests = new Map<string, AgentRequest>();

  constructor(private readonly clock: Clock) {}

  create(origin: string, raw: unknown): AgentRequest {
    const parsed = AgentRequestBody.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ClientError('AGENT_REQUEST_INVALID', 'malformed', `the request is not one the agent accepts: ${issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'invalid'}`);
    }
    const body = parsed.data;
    let content: Buffer | null = null;
    if (body.type === 'sign') {
      content = Buffer.from(body.content, 'base64');
      if (content.length === 0) throw new ClientError('AGENT_REQUEST_INVALID', 'malformed', 'the content to sign is empty');
      if (content.length > MAX_CONTENT_BYTES) throw new ClientError('AGENT_REQUEST_INVALID', 'malformed', `the content to sign is larger than ${MAX_CONTENT_BYTES} bytes`);
    }
    this.sweep();
    const now = this.clock.now().getTime();
    const request: AgentRequest = {
      id: randomBytes(16).toString('hex'),
      origin,
      body,
      content,
      contentSha256: content ? createHash('sha256').update(content).digest('hex') : null,
      formToken: randomBytes(16).toString('hex'),
      createdAt: now,
      expiresAt: now + REQUEST_LIFETIME_MS,
      state: 'pending',
      working: false,
    };
    this.requests.set(request.id, request);
    return request;
  }

  /** The request for the approval window (not for pages: they get `answer`). Null when gone. */
  forApproval(id: string): AgentRequest | null {
    const r = this.requests.get(id);
    if (!r) return null;
    this.expireIfDue(r);
    return r;
  }

  /**
   * What the page that made the request may learn. A final state is delivered once; after that the request
   * is gone (404 for everyone). Another origin gets nothing.
   */
  answer(id: string, origin: string): RequestAnswer | null {
    const r = this.requests.get(id);
    if (!r || r.origin !== origin) return null;
    this.expireIfDue(r);
    if (r.state === 'pending') return { state: 'pending' };
    this.requests.delete(id);
    return { state: r.state, ...(r.result ? { result: r.result } : {}), ...(r.error ? { error: r.error } : {}) };
  }

  finish(r: AgentRequest, outcome: { state: 'done'; result: AgentResult } | { state: 'refused' } | { state: 'failed'; error: { code: string; message: string } }): void {
    if (r.state !== 'pending') return;
    r.state = outcome.state;
    if (outcome.state === 'done') r.result = outcome.result;
    if (outcome.state === 'failed') r.error = outcome.error;
    // The content is no longer needed: do not keep what the resident signed in memory longer than necessary.
    r.content = null;
  }

  private expireIfDue(r: AgentRequest): void {
    if (r.state === 'pending' && !r.working && this.clock.now().getTime() >= r.expiresAt) {
      r.state = 'expired';
      r.content = null;
    }
  }

  /** Drops requests nobody came back for (final for longer than a lifetime, or long expired). */
  private sweep(): void {
    const cutoff = this.clock.now().getTime() - 2 * REQUEST_LIFETIME_MS;
    for (const [id, r] of this.requests) if (r.createdAt < cutoff) this.requests.delete(id);
  }
}
