import type { KeySpec } from '../pki/signer.js';

/**
 * What init promised (settings `ca.promised`): the CAs' key spec and every prefecture of the hierarchy. A first
 * `jpki serve` makes a few prefectural CAs before its port opens and the rest while it serves (docs/ca.md); an
 * installation made complete at once records the promise too, and one made before it was introduced has none.
 */
export interface Promised {
  keySpec: KeySpec;
  prefectures: string[];
}

export const PROMISED_KEY = 'ca.promised';

/** The promise, or undefined for an installation made before promises were recorded. */
export async function readPromised(settings: { get(key: string): Promise<string | undefined> }): Promise<Promised | undefined> {
  const text = await settings.get(PROMISED_KEY);
  return text === undefined ? undefined : (JSON.parse(text) as Promised);
}

/**
 * The promised prefectures (JIS codes, in the promise's order) that have no CA yet. Light on purpose: `jpki ca
 * list` asks it with nothing but the store loaded.
 */
export async function pendingPrefectures(store: {
  settings: { get(key: string): Promise<string | undefined> };
  authorities: { list(): Promise<{ prefecture: string | null }[]> };
}): Promise<string[]> {
  const promised = await readPromised(store.settings);
  if (!promised) return [];
  const have = new Set((await store.authorities.list()).map((a) => a.prefecture));
  return promised.prefectures.filter((code) => !have.has(code));
}
