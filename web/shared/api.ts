/**
 * The one way browser pages reach the server: JSON over fetch, same origin, cookies included. Errors come
 * back as `ApiError` with the server's `{ error, message, params }` — the message already in the language
 * asked for (`?lang=` on every request). A request that never got an answer is `ApiError` with code
 * `NETWORK` and status 0: its outcome is unknown, which is what idempotency keys are for (submit.ts).
 */
export interface ErrorBody {
  error: string;
  message: string;
  params?: Record<string, string | number>;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly params: Record<string, string | number> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** No answer came: the server may or may not have done it. */
  get outcomeUnknown(): boolean {
    return this.status === 0 || this.code === 'COUNTER_SUBMISSION_IN_PROGRESS';
  }
}

export interface ApiResult<T> {
  data: T;
  /** The server answered an idempotent replay (the first result of the same submission). */
  replayed: boolean;
}

export interface ApiClientOptions {
  /** e.g. `/api/counter` */
  base: string;
  language: () => string;
  /** The CSRF token of a cookie session, sent on every write. */
  csrfToken?: () => string | undefined;
  /** The words shown when no answer came, in the page's language. */
  networkMessage: () => string;
  /** Text for an answer that is not the API's JSON error (a proxy page, say). */
  httpMessage: (status: number) => string;
}

export interface PostOptions {
  idempotencyKey?: string;
}

/** 8–128 of `A–Z a–z 0–9 _ . : -` (docs/counter.md §7); from getRandomValues, which plain http also has. */
export function newIdempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return `web-${btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`;
}

export class ApiClient {
  constructor(private readonly o: ApiClientOptions) {}

  async get<T>(path: string, query: Record<string, string | undefined> = {}): Promise<T> {
    return (await this.request<T>('GET', path, query)).data;
  }

  async post<T>(path: string, body: unknown, options: PostOptions = {}): Promise<ApiResult<T>> {
    return this.request<T>('POST', path, {}, body, options);
  }

  private url(path: string, query: Record<string, string | undefined>): string {
    const u = new URL(this.o.base + path, location.origin);
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') u.searchParams.set(k, v);
    u.searchParams.set('lang', this.o.language());
    return u.pathname + u.search;
  }

  private async request<T>(method: string, path: string, query: Record<string, string | undefined>, body?: unknown, options: PostOptions = {}): Promise<ApiResult<T>> {
    const headers: Record<string, string> = { accept: 'application/json', 'accept-language': this.o.language() };
    if (method !== 'GET') {
      const csrf = this.o.csrfToken?.();
      if (csrf) headers['x-csrf-token'] = csrf;
      if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
      if (body !== undefined) headers['content-type'] = 'application/json';
    }
    let response: Response;
    try {
      response = await fetch(this.url(path, query), {
        method,
        headers,
        credentials: 'same-origin',
        cache: 'no-store',
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch {
      throw new ApiError(0, 'NETWORK', this.o.networkMessage());
    }
    const replayed = response.headers.get('idempotent-replayed') === 'true';
    let json: unknown;
    try {
      json = await response.json();
    } catch {
      // a body cut off mid-way is as good as no answer
      if (response.ok) throw new ApiError(0, 'NETWORK', this.o.networkMessage());
      throw new ApiError(response.status, `HTTP_${response.status}`, this.o.httpMessage(response.status));
    }
    if (!response.ok) {
      const e = json as Partial<ErrorBody>;
      if (typeof e.error === 'string' && typeof e.message === 'string') throw new ApiError(response.status, e.error, e.message, e.params ?? {});
      throw new ApiError(response.status, `HTTP_${response.status}`, this.o.httpMessage(response.status));
    }
    return { data: json as T, replayed };
  }
}
