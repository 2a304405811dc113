import { describe, expect, it } from 'vitest';
import { BoundedMap } from './memo.js';

describe('BoundedMap', () => {
  it('computes once per key, keeps false and null results, and drops the oldest entry when full', () => {
    const m = new BoundedMap<string, boolean | null>(2);
    let calls = 0;
    const compute = (v: boolean | null) => () => (calls++, v);
    expect(m.get('a', compute(false))).toBe(false);
    expect(m.get('a', compute(true))).toBe(false);
    expect(m.get('b', compute(null))).toBeNull();
    expect(m.get('b', compute(true))).toBeNull();
    expect(calls).toBe(2);
    m.set('c', true);
    expect(m.peek('a')).toBeUndefined();
    expect([m.peek('b'), m.peek('c')]).toEqual([null, true]);
    m.set('c', false); // replacing a key drops nothing
    expect([m.peek('b'), m.peek('c')]).toEqual([null, false]);
  });

  it('keeps nothing when the computation throws', () => {
    const m = new BoundedMap<string, number>(4);
    expect(() =>
      m.get('x', () => {
        throw new Error('unreadable');
      }),
    ).toThrow('unreadable');
    expect(m.peek('x')).toBeUndefined();
    expect(m.get('x', () => 7)).toBe(7);
  });
});
