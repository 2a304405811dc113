import type { Lint } from './types.js';

export const serialIsPositiveWith64RandomBits: Lint = {
  id: 'serial-is-positive-with-64-random-bits',
  citation: 'RFC 5280 §4.1.2.2 (positive, ≤ 20 octets); CA/Browser Forum BR §7.1 (≥ 64 bits from a CSPRNG)',
  check: (c) => (c.serial.length < 9 || c.serial.length > 20 ? `serial has ${c.serial.length} octets; 9 to 20 are required` : undefined),
};
