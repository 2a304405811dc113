import type { GlobalOptions } from './global-options.js';
import type { OpenOptions, Services } from '../compose/services.js';
import type { Installation } from '../compose/installation.js';

/**
 * Opens the services of an existing installation for one command, runs it, and always closes them
 * (database, key store). The composition root is loaded here, when a command runs, not when the CLI starts.
 * Only `jpki init` and `jpki serve` create an installation; every other command refuses a data directory
 * that holds none.
 */
export async function withServices<T>(globals: GlobalOptions, fn: (s: Services) => Promise<T>, options: OpenOptions = {}): Promise<T> {
  const { openServices } = await import('../compose/services.js');
  const services = await openServices(globals, { create: false, ...options });
  try {
    return await fn(services);
  } finally {
    await services.close();
  }
}

/** The installation's database only, for commands that just read it (`jpki ca list`): starts fastest. */
export async function withInstallation<T>(globals: GlobalOptions, fn: (i: Installation) => Promise<T>): Promise<T> {
  const { openInstallation } = await import('../compose/installation.js');
  const installation = await openInstallation(globals, { create: false });
  try {
    return await fn(installation);
  } finally {
    await installation.store.close();
  }
}
