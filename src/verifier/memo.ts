/**
 * A map of bounded size for the verifier's memos: results that are a function of bytes alone (a certificate
 * parsed from its DER, a signature checked over exact bytes with an exact key, a path's time-independent
 * checks), so an entry is never wrong, only possibly dropped. When full, the oldest entry goes first: a
 * flood of one-off inputs cannot grow the process, and what recurs (the bridge path) is computed again at worst.
 */
export class BoundedMap<K, V extends NonNullable<unknown> | null> {
  private readonly map = new Map<K, V>();
  constructor(private readonly max: number) {}

  peek(key: K): V | undefined {
    return this.map.get(key);
  }

  set(key: K, value: V): void {
    if (!this.map.has(key) && this.map.size >= this.max) this.map.delete(this.map.keys().next().value!);
    this.map.set(key, value);
  }

  /** The value for `key`, computed (and kept) on a miss. A `compute` that throws keeps nothing. */
  get(key: K, compute: () => V): V {
    let v = this.map.get(key);
    if (v === undefined) this.set(key, (v = compute()));
    return v;
  }
}
