import fc from 'fast-check';
import { describe, it, beforeAll, afterAll } from 'vitest';
import { readCorpus, runsFor, type FuzzInput, type FuzzSession, type FuzzTarget } from './fuzz.js';

/**
 * One target in `npm test`: its corpus (seeds and past findings) replayed, then a bounded property run.
 * fast-check prints the seed and the shrunk input of a failure; `npm run fuzz -- TARGET --replay SEED` or
 * keeping the input in the corpus reproduces it.
 */
/** At most this long per target in `npm test` (JPKI_FUZZ_SECONDS). */
const FUZZ_SECONDS = Number(process.env.JPKI_FUZZ_SECONDS ?? '60');

export function describeTarget<T extends FuzzInput>(target: FuzzTarget<T>): void {
  describe(`fuzz: ${target.name}`, () => {
    let session: FuzzSession<T>;
    beforeAll(async () => {
      session = await target.open();
    }, 300_000);
    afterAll(async () => {
      await session?.close();
    });

    it(`replays the corpus of ${target.name}`, async () => {
      for (const { file, input } of readCorpus(target)) {
        try {
          await session.check(input);
        } catch (e) {
          throw new Error(`corpus input ${target.name}/${file}: ${(e as Error).message}`, { cause: e });
        }
      }
      await session.verifyState?.();
    });

    it(`${target.description}: ends precisely for ${runsFor(target)} hostile inputs`, async () => {
      await fc.assert(
        fc.asyncProperty(session.arbitrary, async (input) => {
          await session.check(input);
        }),
        // bounded in cases and in time: on a busy machine fewer cases run, never a timed-out suite
        { numRuns: runsFor(target), endOnFailure: false, interruptAfterTimeLimit: FUZZ_SECONDS * 1000, markInterruptAsFailure: false },
      );
      await session.verifyState?.();
    }, (FUZZ_SECONDS + 120) * 1000);
  });
}
