/**
 * The servers the OCSP benchmark (bench/ocsp.ts) measures ours against, each started as its own processes
 * on this machine: `cfssl ocspserve` (Debian golang-cfssl: Go's responder, serving a file of pre-signed
 * responses), nginx handing out one stored response as a static file (the machine's ceiling for stored
 * bytes), and `jpki serve --workers N` (ours on every core). Each returns its port, its process ids (for
 * resident memory) and a stop function.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Peer {
  port: number;
  /** The processes serving (the workers, not a supervising parent that only accepts). */
  pids(): number[];
  stop(): Promise<void>;
}

const ROOT = join(import.meta.dirname, '..');

/** Resident memory of a process, bytes (VmRSS). */
export function residentBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** The children of a process (its workers). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > end) throw new Error(`${what} did not start`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
    });
}

const answers = async (port: number, body: Uint8Array) => {
  const r = await fetch(`http://127.0.0.1:${port}/ocsp`, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: new Uint8Array(body) });
  await r.arrayBuffer();
  return r.ok;
};

/** `cfssl ocspserve -responses FILE`: FILE holds the base64 DER of each response, one per line. */
export async function startCfssl(dir: string, port: number, responses: readonly Buffer[], probe: Uint8Array): Promise<Peer> {
  const file = join(dir, 'cfssl-responses.txt');
  writeFileSync(file, responses.map((r) => r.toString('base64')).join('\n') + '\n');
  const child = spawn('cfssl', ['ocspserve', '-address', '127.0.0.1', '-port', String(port), '-responses', file, '-loglevel', '5'], { stdio: 'ignore' });
  await waitFor(() => answers(port, probe), 'cfssl ocspserve');
  return { port, pids: () => [child.pid!], stop: stopper(child) };
}

/**
 * nginx with one worker per core, answering every POST /ocsp with one stored response from a file (a POST on
 * a static file is a 405, turned into that file with status 200), keep-alive without a request limit.
 */
export async function startNginx(dir: string, port: number, response: Buffer, probe: Uint8Array): Promise<Peer> {
  const base = join(dir, 'nginx');
  mkdirSync(join(base, 'www'), { recursive: true });
  mkdirSync(join(base, 'tmp'), { recursive: true });
  writeFileSync(join(base, 'www', 'response.der'), response);
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${base}/tmp;`).join(' ');
  writeFileSync(
    join(base, 'nginx.conf'),
    `${process.getuid?.() === 0 ? 'user root;\n' : ''}worker_processes auto;
daemon off;
pid ${base}/nginx.pid;
error_log ${base}/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  ${temp}
  keepalive_requests 10000000;
  server {
    listen 127.0.0.1:${port};
    root ${base}/www;
    location = /ocsp { default_type application/ocsp-response; error_page 405 =200 /response.der; return 405; }
    location = /response.der { default_type application/ocsp-response; }
  }
}
`,
  );
  const child = spawn('nginx', ['-c', join(base, 'nginx.conf'), '-p', base], { stdio: 'ignore' });
  await waitFor(() => answers(port, probe), 'nginx');
  return { port, pids: () => childPids(child.pid!), stop: stopper(child) };
}

/** `jpki serve --workers N` on an existing installation. */
export async function startJpki(dataDir: string, port: number, workers: number, probe: Uint8Array, extra: string[] = []): Promise<Peer> {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'jpki.js'), '--data', dataDir, ...extra, 'serve', '--port', String(port), '--workers', String(workers), '--no-demo'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor(async () => out.includes('jpki listening'), `jpki serve --workers ${workers}`);
  await waitFor(() => answers(port, probe), 'jpki serve');
  return { port, pids: () => (workers > 1 ? childPids(child.pid!) : [child.pid!]), stop: stopper(child) };
}
