/**
 * The card's APDU interface: sequences of hostile command APDUs sent to a personalised software card. Every
 * command gets a response ending in a status word of the card's table (or a patterned 61xx/63Cx/6Cxx),
 * never an exception; afterwards the persisted image still opens (nothing half-written), and no PIN retry
 * counter went up without a correct PIN.
 */
import fc from 'fast-check';
import { SW } from '../../../src/card/status-words.js';
import { SoftCard } from '../../../src/card/index.js';
import { JpkiClient, InProcessReader } from '../../../src/reader/index.js';
import { FABRICATION_SECRET, openImage, personalisedImage, SELECT_AP } from '../../card/support/cards.js';
import type { FuzzTarget } from './fuzz.js';

const KNOWN = new Set<number>(Object.values(SW));
const swOk = (sw: number) => KNOWN.has(sw) || (sw & 0xff00) === 0x6100 || (sw & 0xff00) === 0x6c00 || (sw & 0xfff0) === 0x63c0;

const byte = fc.integer({ min: 0, max: 255 });
const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex');
const apdu = (cla: number, ins: number, p1: number, p2: number, data?: Uint8Array, le?: number) =>
  hexOf(Buffer.concat([Buffer.of(cla, ins, p1, p2), data && data.length ? Buffer.concat([Buffer.of(data.length), data]) : Buffer.alloc(0), le === undefined ? Buffer.alloc(0) : Buffer.of(le & 0xff)]));

/** Commands near the ones the card knows (JPKI's CLA 00/80 and INS), with hostile fields, and noise. */
const command: fc.Arbitrary<string> = fc.oneof(
  fc.constant(SELECT_AP.replace(/\s+/g, '').toLowerCase()),
  fc.tuple(fc.constantFrom('0001', '0002', '0006', '000a', '000b', '0016', '0017', '0018', '001b', '001c', '3f00', 'ffff'), fc.constantFrom(0x0c, 0x00, 0x04)).map(([fid, p2]) => apdu(0x00, 0xa4, 0x02, p2, Buffer.from(fid, 'hex'))),
  fc.tuple(byte, byte, fc.integer({ min: 0, max: 256 })).map(([p1, p2, le]) => apdu(0x00, 0xb0, p1 & 0x7f, p2, undefined, le)),
  fc.tuple(fc.constantFrom(0x80, 0x81, 0x00, 0xff), fc.uint8Array({ maxLength: 20 })).map(([p2, pin]) => apdu(0x00, 0x20, 0x00, p2, pin)),
  fc.tuple(fc.constantFrom(0x80, 0x81), fc.uint8Array({ maxLength: 40 })).map(([p2, d]) => apdu(0x00, 0x24, 0x01, p2, d)),
  fc.tuple(fc.uint8Array({ maxLength: 80 }), fc.integer({ min: 0, max: 256 })).map(([d, le]) => apdu(0x80, 0x2a, 0x00, 0x80, d, le)),
  fc.integer({ min: 0, max: 256 }).map((le) => apdu(0x00, 0x84, 0x00, 0x00, undefined, le)),
  fc.integer({ min: 0, max: 256 }).map((le) => apdu(0x00, 0xc0, 0x00, 0x00, undefined, le)),
  fc.tuple(byte, byte, byte, fc.uint8Array({ maxLength: 64 }), fc.option(fc.integer({ min: 0, max: 256 }), { nil: undefined })).map(([ins, p1, p2, d, le]) => apdu(0x80, ins, p1, p2, d, le)),
  fc.tuple(byte, byte, byte, byte, fc.uint8Array({ maxLength: 32 })).map(([cla, ins, p1, p2, d]) => apdu(cla, ins, p1, p2, d)),
  fc.uint8Array({ maxLength: 300 }).map(hexOf),
);

export const cardApdus: FuzzTarget<string[]> = {
  name: 'card-apdus',
  description: 'sequences of hostile command APDUs to a personalised software card (src/card/applet.ts)',
  testRuns: 150,
  kind: 'json',
  async open() {
    const p = await personalisedImage();
    return {
      arbitrary: fc.array(command, { minLength: 1, maxLength: 12 }),
      async check(sequence: string[]) {
        const { card, storage } = await openImage(p.image);
        card.powerOn();
        const triesBefore = await tries(storage.image!);
        for (const hex of sequence) {
          let r: Buffer;
          try {
            r = await card.transmit(Buffer.from(hex, 'hex'));
          } catch (e) {
            throw new Error(`APDU ${hex} threw ${(e as Error).name}: ${(e as Error).message}`);
          }
          if (r.length < 2) throw new Error(`APDU ${hex}: a response of ${r.length} bytes has no status word`);
          const sw = r.readUInt16BE(r.length - 2);
          if (!swOk(sw)) throw new Error(`APDU ${hex}: status word ${sw.toString(16)} is not in the card's table`);
        }
        await card.close();
        // the image as persisted still opens, and no retry counter went up (no PIN here is right by chance:
        // the verify arbitraries draw random bytes, and the real PINs are not among them)
        const after = await tries(storage.image!);
        for (const pin of ['auth', 'sign'] as const)
          if (after[pin] > triesBefore[pin]) throw new Error(`the ${pin} PIN's tries went up from ${triesBefore[pin]} to ${after[pin]}`);
      },
      close: async () => undefined,
    };
  },
};

/** The PINs' tries left in an image, read through the normal client. */
async function tries(image: Buffer): Promise<{ auth: number; sign: number }> {
  const { MemoryCardStorage } = await import('../../../src/card/index.js');
  const storage = new MemoryCardStorage();
  storage.image = Buffer.from(image);
  const card = await SoftCard.open(storage, FABRICATION_SECRET);
  card.powerOn();
  const client = new JpkiClient(new InProcessReader(card));
  await client.selectAp();
  const r = { auth: (await client.pinStatus('auth')).triesLeft, sign: (await client.pinStatus('sign')).triesLeft };
  await card.close();
  return r;
}

export const CARD_TARGETS = [cardApdus];
