import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { PROJECT_ROOT } from '../../common/project-root.js';

/**
 * The browser side's files (the `web/` tree) as the server hands them out. No build step: a request for
 * `/web/counter/main.js` is answered with `web/counter/main.ts` transpiled by esbuild (types stripped, the
 * type check is `tsc --noEmit -p .`), cached until the file changes. Everything else is served as it is,
 * by an allow-list of types; nothing outside `web/` is ever read.
 */
export const WEB_ROOT = resolve(PROJECT_ROOT, 'web');

const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

export interface WebAsset {
  body: Buffer;
  type: string;
  etag: string;
}

interface Cached extends WebAsset {
  mtimeMs: number;
  size: number;
}

const cache = new Map<string, Cached>();

/** `counter/main.js` → the file inside WEB_ROOT, or undefined for anything that leaves it or is not allowed. */
function inside(root: string, relative: string): string | undefined {
  if (relative.includes('\0') || relative.split('/').some((p) => p === '..' || p.startsWith('.'))) return undefined;
  const full = resolve(root, relative);
  return full.startsWith(root + sep) ? full : undefined;
}

async function fileStat(path: string) {
  try {
    const s = await stat(path);
    return s.isFile() ? s : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The asset at `relative` (a path below `web/`), or undefined when there is none. `.js` comes from the
 * `.ts` beside it when there is one (browser code is written in TypeScript), else from a plain `.js` file.
 */
export async function webAsset(relative: string, root = WEB_ROOT): Promise<WebAsset | undefined> {
  const ext = extname(relative);
  const type = TYPES[ext];
  const path = type ? inside(root, relative) : undefined;
  if (!type || !path) return undefined;
  const source = ext === '.js' ? path.slice(0, -3) + '.ts' : path;
  let s = await fileStat(source);
  let file = source;
  if (!s && ext === '.js') {
    s = await fileStat(path);
    file = path;
  }
  if (!s) return undefined;
  const hit = cache.get(file);
  if (hit && hit.mtimeMs === s.mtimeMs && hit.size === s.size) return hit;
  const raw = await readFile(file);
  const body = file.endsWith('.ts') ? await transpile(raw.toString('utf8'), file, root) : raw;
  const entry: Cached = { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`, mtimeMs: s.mtimeMs, size: s.size };
  cache.set(file, entry);
  return entry;
}

async function transpile(code: string, file: string, root: string): Promise<Buffer> {
  // loaded on the first page asked for, not at start-up (issue 11: the first start)
  const { transform } = await import('esbuild');
  const out = await transform(code, {
    loader: 'ts',
    format: 'esm',
    target: 'es2022',
    // The same class-field semantics tsc checks against (tsconfig.json).
    tsconfigRaw: { compilerOptions: { useDefineForClassFields: false } },
    sourcemap: 'inline',
    sourcefile: `/web/${file.slice(root.length + 1).split(sep).join('/')}`,
  });
  return Buffer.from(out.code);
}

/** An HTML page of the `web/` tree (pages are registered by route in web.ts). */
export async function webPage(relative: string, root = WEB_ROOT): Promise<Buffer | undefined> {
  const path = inside(root, relative);
  if (!path || !path.endsWith('.html') || !(await fileStat(path))) return undefined;
  return readFile(path);
}
