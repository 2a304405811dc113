import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { FixedClock } from '../../src/common/clock.js';
import { buildAgent, REQUEST_LIFETIME_MS } from '../../src/client/index.js';
import { commandExists, needs } from '../support/system.js';
import { residentWithCard, SIGN_PIN, type ResidentCard } from './support.js';

/**
 * The local client agent's protocol (docs/agent-protocol.md), driven over HTTP with fastify's inject: CORS and
 * Private Network Access preflight, the origin allow-list, one-time results, the two-minute expiry, and the
 * resident's window (the PIN typed there; wrong PIN → tries left). The signature it returns is checked with
 * `openssl cms -verify`.
 */
const SITE = 'http://127.0.0.1:8080';
let r: ResidentCard;
let clock: FixedClock;
let agent: FastifyInstance;
let own: string;
const events: string[] = [];

beforeAll(async () => {
  clock = new FixedClock('2026-04-02T01:00:00Z');
  r = await residentWithCard();
  agent = await buildAgent({ card: { type: 'image', path: r.card, dataDir: r.t.dir }, allowedOrigins: [SITE], clock, onEvent: (l) => events.push(l) });
  await agent.listen({ port: 0, host: '127.0.0.1' });
  const a = agent.server.address();
  own = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
});

afterAll(async () => {
  await agent?.close();
  await r?.t.cleanup();
});

const fromSite = { origin: SITE, host: '127.0.0.1:8741' };

async function create(body: unknown, origin = SITE) {
  return agent.inject({ method: 'POST', url: '/v1/requests', headers: { origin, host: '127.0.0.1:8741', 'content-type': 'application/json' }, payload: JSON.stringify(body) });
}

/** What the resident does in the agent's window: open it, read the form's token, post a decision. */
async function decide(id: string, decision: 'approve' | 'refuse', pin?: string) {
  const page = await agent.inject({ method: 'GET', url: `/approve/${id}`, headers: { host: '127.0.0.1:8741' } });
  const token = /name="token" value="([0-9a-f]+)"/.exec(page.body)?.[1];
  const form = new URLSearchParams({ token: token ?? '', decision, ...(pin === undefined ? {} : { pin }) });
  return agent.inject({ method: 'POST', url: `/approve/${id}`, headers: { origin: own, host: '127.0.0.1:8741', 'content-type': 'application/x-www-form-urlencoded' }, payload: form.toString() });
}

async function poll(id: string, origin = SITE) {
  return agent.inject({ method: 'GET', url: `/v1/requests/${id}`, headers: { origin, host: '127.0.0.1:8741' } });
}

describe('local client agent', () => {
  it('answers the preflight of an allowed origin with CORS and Private Network Access, and refuses others', async () => {
    const ok = await agent.inject({
      method: 'OPTIONS',
      url: '/v1/requests',
      headers: { ...fromSite, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type', 'access-control-request-private-network': 'true' },
    });
    expect(ok.statusCode).toBe(204);
    expect(ok.headers['access-control-allow-origin']).toBe(SITE);
    expect(ok.headers['access-control-allow-private-network']).toBe('true');
    expect(String(ok.headers['access-control-allow-methods'])).toContain('POST');
    const evil = await agent.inject({ method: 'OPTIONS', url: '/v1/requests', headers: { origin: 'http://evil.example', host: '127.0.0.1:8741' } });
    expect(evil.statusCode).toBe(403);
    expect(evil.headers['access-control-allow-origin']).toBeUndefined();
    const refused = await create({ type: 'certificate', key: 'auth' }, 'http://evil.example');
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ error: 'AGENT_ORIGIN_NOT_ALLOWED' });
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
    const status = await agent.inject({ method: 'GET', url: '/v1/status', headers: fromSite });
    expect(status.json()).toMatchObject({ card: true });
    // DNS rebinding: another host name pointing at 127.0.0.1 is refused
    const rebound = await agent.inject({ method: 'GET', url: '/v1/status', headers: { origin: SITE, host: 'attacker.example:8741' } });
    expect(rebound.statusCode).toBe(403);
  });

  it('signs after the resident approves with the PIN; the result is delivered once and verifies with openssl', async () => {
    const content = Buffer.from('{"procedure":"転出届","name":"公的 一郎"}');
    const made = await create({ type: 'sign', key: 'sign', content: content.toString('base64'), contentType: 'application/json', summary: '転出届: 公的 一郎' });
    expect(made.statusCode).toBe(201);
    const { id, approveUrl, expiresAt } = made.json();
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(approveUrl).toBe(`${own}/approve/${id}`);
    expect(new Date(expiresAt).getTime() - clock.now().getTime()).toBe(REQUEST_LIFETIME_MS);
    expect((await poll(id)).json()).toEqual({ state: 'pending' });
    // another allowed origin cannot read it
    const window = await agent.inject({ method: 'GET', url: `/approve/${id}`, headers: { host: '127.0.0.1:8741' } });
    expect(window.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(window.body).toContain(SITE);
    expect(window.body).toContain('転出届: 公的 一郎');
    expect(window.body).toContain(createHash('sha256').update(content).digest('hex'));
    const approved = await decide(id, 'approve', SIGN_PIN);
    expect(approved.body).toContain('カードで処理しました');
    const answer = (await poll(id)).json();
    expect(answer.state).toBe('done');
    expect((await poll(id)).statusCode).toBe(404);
    if (!needs('openssl', commandExists('openssl'))) return;
    const dir = r.t.dir;
    writeFileSync(join(dir, 'app.json'), content);
    writeFileSync(join(dir, 'app.p7s'), Buffer.from(answer.result.signature, 'base64'));
    const v = spawnSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', join(dir, 'app.p7s'), '-content', join(dir, 'app.json'), '-CAfile', r.caPem, '-purpose', 'any', '-out', '/dev/null'], { encoding: 'utf8' });
    expect(v.stderr).toContain('Verification successful');
    // nothing secret in the agent's log lines
    expect(events.join('\n')).not.toContain(SIGN_PIN);
    expect(events.join('\n')).not.toContain(answer.result.signature.slice(0, 40));
  });

  it('reports a wrong PIN with the tries left, and a refusal', async () => {
    const made = (await create({ type: 'certificate', key: 'sign' })).json();
    await decide(made.id, 'approve', 'WRONG9');
    const failed = (await poll(made.id)).json();
    expect(failed).toMatchObject({ state: 'failed', error: { code: 'PIN_INCORRECT' } });
    expect(failed.error.message).toMatch(/4 tries left/);
    const again = (await create({ type: 'certificate', key: 'auth' })).json();
    await decide(again.id, 'refuse');
    expect((await poll(again.id)).json()).toEqual({ state: 'refused' });
    // the right PIN resets the counter
    const read = (await create({ type: 'certificate', key: 'sign' })).json();
    await decide(read.id, 'approve', SIGN_PIN);
    expect((await poll(read.id)).json()).toMatchObject({ state: 'done', result: { certificate: expect.any(String) } });
  });

  it('expires a request after two minutes, and only the agent\u2019s own form decides', async () => {
    const made = (await create({ type: 'certificate', key: 'auth' })).json();
    const forged = await agent.inject({ method: 'POST', url: `/approve/${made.id}`, headers: { origin: SITE, host: '127.0.0.1:8741', 'content-type': 'application/x-www-form-urlencoded' }, payload: 'decision=approve' });
    expect(forged.statusCode).toBe(403);
    clock.advance(REQUEST_LIFETIME_MS);
    expect((await poll(made.id)).json()).toEqual({ state: 'expired' });
    expect((await poll(made.id)).statusCode).toBe(404);
    const bad = await create({ type: 'sign', key: 'sign', content: 'not base64!', contentType: 'text/plain', summary: 'x' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: 'AGENT_REQUEST_INVALID' });
  });
});
