// `node --import ./load-trace.mjs …`: writes every module the program loads, one URL a line, to the file
// named by JPKI_LOAD_TRACE (test/cli/startup.test.ts uses it to see what a command loads).
import { register } from 'node:module';
import { appendFileSync } from 'node:fs';

const file = process.env.JPKI_LOAD_TRACE;
if (file) {
  const { port1, port2 } = new MessageChannel();
  port1.on('message', (url) => appendFileSync(file, `${url}\n`));
  port1.unref();
  register('./load-trace-hooks.mjs', { parentURL: import.meta.url, data: { port: port2 }, transferList: [port2] });
}
