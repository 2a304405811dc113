import { runCli } from './program.js';

/** A reader that stopped reading (`jpki ca list | head -5`) has what it wanted: end quietly, successfully. */
function quietOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

quietOnClosedPipe(process.stdout);
quietOnClosedPipe(process.stderr);
process.exitCode = await runCli(process.argv.slice(2));
