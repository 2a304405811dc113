import { JpkiError } from '../common/errors.js';

/**
 * PINs for the client commands: from JPKI_SIGN_PIN / JPKI_AUTH_PIN (scripts, tests), else typed on the
 * terminal without echo, else one line of standard input (a pipe). Never an option: a PIN on the command
 * line would end up in the shell history and in `ps`.
 */
export type PinKind = 'sign' | 'auth';

const ENV: Record<PinKind, string> = { sign: 'JPKI_SIGN_PIN', auth: 'JPKI_AUTH_PIN' };
export const PIN_PROMPTS: Record<PinKind, string> = {
  sign: '署名用パスワード (signing password): ',
  auth: '利用者証明用暗証番号 (user-authentication PIN): ',
};

export async function readPin(kind: PinKind, prompt = PIN_PROMPTS[kind], envName = ENV[kind]): Promise<string> {
  const fromEnv = process.env[envName];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (process.stdin.isTTY) return readHidden(prompt);
  const line = await readLine();
  if (line === null || line === '') throw new JpkiError('PIN_REQUIRED', 'unauthenticated', `no PIN: type it on a terminal, or set ${envName}`);
  return line;
}

/** Reads a line from the terminal in raw mode, echoing nothing; Ctrl-C aborts. */
function readHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    let value = '';
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new JpkiError('PIN_ENTRY_ABORTED', 'malformed', 'PIN entry aborted'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

let pending: string[] | null = null;

/** One line of a piped standard input (the lines are read once and handed out in order). */
async function readLine(): Promise<string | null> {
  if (pending === null) {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    pending = Buffer.concat(chunks).toString('utf8').split(/\r?\n/);
  }
  return pending.length ? pending.shift()! : null;
}
