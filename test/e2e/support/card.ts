import { spawn } from 'node:child_process';
import { JPKI_BIN } from '../../support/cli.js';
import { waitForCard } from '../../card/support/pcscd.js';

/**
 * `jpki card serve` as a child process: the card image goes into pcscd's vpcd reader ("Virtual PCD 00 00")
 * until stop(), which also waits for the card to leave the reader. The image is locked meanwhile, so the
 * counter cannot use the card at the same time.
 */
export async function serveCard(dataDir: string, cardFile: string): Promise<{ stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [JPKI_BIN, '--data', dataDir, 'card', 'serve', '--card', cardFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`jpki card serve did not reach vpcd: ${out}`)), 60_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (/inserted into vpcd/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exit.then(() => {
      clearTimeout(timer);
      reject(new Error(`jpki card serve exited before reaching vpcd: ${out}`));
    });
  });
  await waitForCard(true);
  return {
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exit;
      await waitForCard(false);
    },
  };
}
