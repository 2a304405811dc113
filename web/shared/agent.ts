/**
 * The local client agent from a web page (docs/agent-protocol.md). `agentRequest` opens the agent's own
 * window, where the resident sees who asks and what, types the PIN and approves; meanwhile it polls the agent
 * and resolves with the result once (or rejects with an AgentError carrying the agent's code). The page's
 * Content-Security-Policy must allow the agent in `connect-src`.
 *
 * Call it from a click handler: the window is opened blank at once (so no popup blocker stops it) and
 * navigated when the agent has answered.
 */
export const DEFAULT_AGENT_URL = 'http://127.0.0.1:8741';

export type AgentKey = 'sign' | 'auth';

export type AgentRequestBody =
  | { type: 'certificate'; key: AgentKey }
  | { type: 'sign'; key: AgentKey; content: string; contentType: string; summary: string };

export interface AgentCertificateResult {
  certificate: string;
}
export interface AgentSignatureResult {
  signature: string;
  certificate: string;
}

export class AgentError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AgentError';
  }
}

export interface AgentRequestOptions {
  /** How often to ask (default 500 ms). */
  pollMs?: number;
  /** A window the caller already opened in its click handler; otherwise one is opened here. */
  window?: Window | null;
  /** Page language for the agent's window. */
  lang?: string;
}

interface Created {
  id: string;
  approveUrl: string;
  expiresAt: string;
}

interface Answer {
  state: 'pending' | 'done' | 'refused' | 'expired' | 'failed';
  result?: AgentCertificateResult | AgentSignatureResult;
  error?: { code: string; message: string };
}

async function json<T>(response: Response): Promise<T> {
  const body = (await response.json().catch(() => ({}))) as T & { error?: string; message?: string };
  if (!response.ok) throw new AgentError(body.error ?? `HTTP_${response.status}`, body.message ?? `the agent answered HTTP ${response.status}`);
  return body;
}

/** Whether the agent runs and sees a card. Rejects with AGENT_UNREACHABLE when nothing answers. */
export async function agentStatus(agentUrl = DEFAULT_AGENT_URL): Promise<{ version: string; reader: string | null; card: boolean }> {
  try {
    return await json(await fetch(`${agentUrl}/v1/status`, { cache: 'no-store' }));
  } catch (e) {
    if (e instanceof AgentError) throw e;
    throw new AgentError('AGENT_UNREACHABLE', `the client agent does not answer at ${agentUrl} (start it with: jpki client agent)`);
  }
}

/** Text → base64 of its UTF-8 bytes (what `content` carries). */
export function base64OfText(text: string): string {
  return base64OfBytes(new TextEncoder().encode(text));
}

export function base64OfBytes(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function bytesOfBase64(b64: string): Uint8Array {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export function agentRequest(agentUrl: string, body: { type: 'certificate'; key: AgentKey }, options?: AgentRequestOptions): Promise<AgentCertificateResult>;
export function agentRequest(agentUrl: string, body: Extract<AgentRequestBody, { type: 'sign' }>, options?: AgentRequestOptions): Promise<AgentSignatureResult>;
export async function agentRequest(agentUrl: string, body: AgentRequestBody, options: AgentRequestOptions = {}): Promise<AgentCertificateResult | AgentSignatureResult> {
  const win = options.window !== undefined ? options.window : window.open('about:blank', '_blank', 'popup,width=640,height=720');
  try {
    let created: Created;
    try {
      created = await json<Created>(await fetch(`${agentUrl}/v1/requests`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), cache: 'no-store' }));
    } catch (e) {
      if (e instanceof AgentError) throw e;
      throw new AgentError('AGENT_UNREACHABLE', `the client agent does not answer at ${agentUrl} (start it with: jpki client agent)`);
    }
    const approveUrl = options.lang ? `${created.approveUrl}?lang=${encodeURIComponent(options.lang)}` : created.approveUrl;
    if (win) win.location.href = approveUrl;
    else throw new AgentError('AGENT_WINDOW_BLOCKED', `the browser blocked the agent's window; open ${approveUrl}`);
    for (;;) {
      await new Promise((r) => setTimeout(r, options.pollMs ?? 500));
      const answer = await json<Answer>(await fetch(`${agentUrl}/v1/requests/${created.id}`, { cache: 'no-store' }));
      if (answer.state === 'pending') continue;
      if (answer.state === 'done' && answer.result) return answer.result;
      if (answer.state === 'refused') throw new AgentError('AGENT_REFUSED', 'the resident refused the request');
      if (answer.state === 'expired') throw new AgentError('AGENT_EXPIRED', 'the request expired before it was approved (2 minutes)');
      throw new AgentError(answer.error?.code ?? 'AGENT_FAILED', answer.error?.message ?? 'the agent could not do it');
    }
  } finally {
    // The agent's window has said what happened; the resident goes on in the calling page.
    setTimeout(() => win?.close(), 1500);
  }
}
