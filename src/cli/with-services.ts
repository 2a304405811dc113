import type { GlobalOptions } from './global-options.js';
import { openServices, type OpenOptions, type Services } from '../compose/services.js';

/** Opens the services for one command, runs it, and always closes them (database, key store). */
export async function withServices<T>(globals: GlobalOptions, fn: (s: Services) => Promise<T>, options: OpenOptions = {}): Promise<T> {
  const services = await openServices(globals, options);
  try {
    return await fn(services);
  } finally {
    await services.close();
  }
}
