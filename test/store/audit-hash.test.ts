/**
 * The audit chain's hash and canonical JSON, against their definition written the plain way: every record
 * already in a chain must keep its hash when the code that computes it gets faster (issue 12, sixth round).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, GENESIS_HASH, recordHash } from '../../src/store/index.js';

/** The definition: keys sorted at every level, undefined members left out, the rest as JSON.stringify writes it. */
function canonicalByDefinition(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map((v) => canonicalByDefinition(v)).join(',')}]`;
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalByDefinition(o[k])}`).join(',')}}`;
}

const TEXTS = ['', 'plain', 'quote " and backslash \\', '改行\nタブ\t', '公的個人認証サービス', '\u2028\u2029', '\ud800 lone surrogate', '😀', '{"json":"inside"}'];

describe('canonicalJson', () => {
  it('sorts keys at every level and leaves out undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: null }, u: undefined })).toBe('{"a":{"c":null,"d":[2,{"e":0,"f":1}]},"b":1}');
    expect(canonicalJson({ only: undefined })).toBe('{}');
    expect(canonicalJson([undefined, 1])).toBe('[null,1]');
    expect(canonicalJson(undefined)).toBe('null');
  });

  it('writes what the definition writes, for the shapes audit details take', () => {
    const samples: unknown[] = [
      { kind: 'sign', residentId: null, cardId: 'card-1', partition: '13103', notAfter: '2031-12-04T00:00:00.000Z', state: 'confirmed', tbsHash: 'ab'.repeat(32), signature: Buffer.alloc(256, 7).toString('base64') },
      { nested: { z: [1, 2, { y: 'x', a: TEXTS }], a: true }, n: -0.5, big: 1e21, neg: -1, zero: 0 },
      TEXTS.map((t, i) => ({ [t || 'empty']: i, [`${t}2`]: t })),
      { when: new Date(0), list: [[], {}, [[]]] },
    ];
    for (const s of samples) expect(canonicalJson(s)).toBe(canonicalByDefinition(s));
  });
});

describe('recordHash', () => {
  it('is SHA-256 of the previous hash and the canonical JSON of [seq, at, actor, action, target, details]', () => {
    let prev = GENESIS_HASH;
    let seq = 0;
    for (const actor of TEXTS)
      for (const target of TEXTS.slice(0, 4)) {
        const r = { seq: ++seq, at: 1_764_800_000_000 + seq, actor, action: 'certificate.issue', target, details: canonicalJson({ text: actor, n: seq }) };
        const expected = createHash('sha256')
          .update(prev)
          .update(canonicalByDefinition([r.seq, r.at, r.actor, r.action, r.target, r.details]))
          .digest('hex');
        expect(recordHash(prev, r)).toBe(expected);
        prev = expected;
      }
  });

  it('changes with every field', () => {
    const r = { seq: 1, at: 2, actor: 'a', action: 'b', target: 'c', details: '{}' };
    const base = recordHash(GENESIS_HASH, r);
    const changed = [{ ...r, seq: 2 }, { ...r, at: 3 }, { ...r, actor: 'x' }, { ...r, action: 'x' }, { ...r, target: 'x' }, { ...r, details: '{"x":1}' }];
    for (const c of changed) expect(recordHash(GENESIS_HASH, c)).not.toBe(base);
    expect(recordHash('1'.repeat(64), r)).not.toBe(base);
  });
});
