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

/**
 * The promised prefectures (JIS codes, in the promise's order) that have no CA yet. Light on purpose: `jpki ca
 * list` asks it with nothing but the store loaded.
 */
export async function pendingPrefectures(store: {
  settings: { get(key: string): Promise<string | undefined> };
  authorities: { list(): Promise<{ prefecture: string | null }[]> };
}): Promise<string[]> {
  const text = await store.settings.get(PROMISED_KEY);
  if (text === undefined) return [];
  const promised = JSON.parse(text) as Promised;
  const have = new Set((await store.authorities.list()).map((a) => a.prefecture));
  return promised.prefectures.filter((code) => !have.has(code));
}
