import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FixedClock, type Clock } from '../../src/common/clock.js';
import { toPem } from '../../src/pki/pem.js';
import { createCounterInstallation, issueOnto, SIGN_PIN, AUTH_PIN, type CounterInstallation } from '../counter/support.js';

export { SIGN_PIN, AUTH_PIN };

/**
 * A resident with a card from the counter: the installation (Tokyo, Osaka, Okinawa CAs), 公的 一郎 in the
 * register, a card image issued at Minato-ku's counter, and the Tokyo CA certificate as PEM.
 */
export interface ResidentCard {
  t: CounterInstallation;
  card: string;
  /** The Tokyo governor's CA self-signed certificate (PEM file). */
  caPem: string;
  caDer: Buffer;
  signSerial: string;
  authSerial: string;
}

export async function residentWithCard(options: { clock?: Clock; name?: string } = {}): Promise<ResidentCard> {
  const t = await createCounterInstallation('sqlite', { clock: options.clock ?? new FixedClock('2026-04-01T01:00:00Z') });
  const op = await t.operator(options.name ?? 'clerk-minato', '13103');
  const resident = await t.addResident();
  const card = await t.blankCard();
  const result = await issueOnto(t, op, resident, card);
  const ca = await t.services.ca.forPrefecture('13');
  const caPem = join(t.dir, 'tokyo-ca.pem');
  writeFileSync(caPem, toPem(ca.certificate, 'CERTIFICATE'));
  return { t, card, caPem, caDer: Buffer.from(ca.certificate), signSerial: result.certificates.sign.serial, authSerial: result.certificates.auth.serial };
}
