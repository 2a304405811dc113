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

export async function residentWithCard(options: { clock?: Clock; name?: string; publicUrl?: string } = {}): Promise<ResidentCard> {
  const t = await createCounterInstallation('sqlite', { clock: options.clock ?? new FixedClock('2026-04-01T01:00:00Z'), ...(options.publicUrl ? { publicUrl: options.publicUrl } : {}) });
  const op = await t.operator(options.name ?? 'clerk-minato', '13103');
  const resident = await t.addResident();
  const card = await t.blankCard();
  const result = await issueOnto(t, op, resident, card);
  const ca = await t.services.ca.forPrefecture('13');
  const caPem = join(t.dir, 'tokyo-ca.pem');
  writeFileSync(caPem, toPem(ca.certificate, 'CERTIFICATE'));
  return { t, card, caPem, caDer: Buffer.from(ca.certificate), signSerial: result.certificates.sign.serial, authSerial: result.certificates.auth.serial };
}

export { freePort } from '../support/system.js';

/** The certificate viewer's 基本 tab in the guide (§3), for 公的 一郎's 2004 certificate. */
export const GUIDE_EXAMPLE = {
  氏名: '公的\u3000一郎',
  生年月日: '昭和52年11月7日',
  性別: '男',
  住所: '東京都港区虎ノ門5丁目',
  発行年月日: '平成16年4月1日',
  有効期間の満了日: '平成19年3月31日',
  発行者: '東京都知事',
};
