/**
 * A module's front door narrowed to the methods another module declared it needs (its port): at run time
 * the object holds only those, bound to the module, so a consumer cannot reach the rest even by a cast.
 */
export function frontDoor<T extends object, K extends keyof T>(target: T, methods: readonly K[]): Pick<T, K> {
  const door = {} as Pick<T, K>;
  for (const m of methods) {
    if (typeof target[m] !== 'function') throw new Error(`front door: ${String(m)} is not a method`);
    (door as Record<K, unknown>)[m] = (...args: unknown[]) => (target[m] as (...a: unknown[]) => unknown).apply(target, args);
  }
  return Object.freeze(door);
}
