import { eraDate } from '../../shared/dates.js';
import { h } from '../../shared/dom.js';
import type { Key } from '../context.js';
import type { DocumentView, RevokedCertificate } from '../types.js';
import { date, fields, paperHead, type Paper } from './paper.js';

/**
 * The notice of acceptance (受理通知書) of a revocation application / private-key compromise report, and the
 * notices of the PIN services (change, initialisation, lock release).
 */
interface NoticeContent {
  service?: 'pin-change' | 'pin-reset' | 'pin-unlock';
  applicationNumber?: string;
  residentName?: string;
  reason?: string;
  crlReason?: string;
  revoked?: RevokedCertificate[];
  cardTakenBack?: boolean;
  cards?: string[];
  pin?: 'sign' | 'auth';
  cardId?: string;
}

export const noticePaper: Paper<DocumentView> = {
  title: 'paper.notice',
  load: (api, number) => api.get<DocumentView>(`/notices/${encodeURIComponent(number)}`),
  render(c, d) {
    const { ui } = c;
    const n = d.content as NoticeContent;
    const title: Key = n.service ? `notice.title.${n.service}` : 'notice.title.revocation';
    const rows: [Key, Node | string][] = [
      ['notice.date', date(c, d.issuedAt, eraDate(d.issuedAt))],
      ['copy.holder', n.residentName ?? ''],
      ['notice.application', n.applicationNumber ?? d.applicationNumber],
    ];
    if (n.service) {
      rows.push(['notice.pin', ui.txt(n.pin === 'auth' ? 'pin.auth' : 'pin.sign')], ['notice.card', n.cardId ?? '']);
    } else {
      rows.push(
        ['notice.reason', ui.txt(`reason.${(n.reason ?? 'lost') as 'lost'}`)],
        ['notice.crlReason', `${n.crlReason ?? ''}${n.revoked?.[0] ? ` (${n.revoked[0].reasonCode})` : ''}`],
        ['notice.cardTakenBack', ui.txt(n.cardTakenBack ? 'yes' : 'no')],
        ['revoke.revoked', h('ul', { class: 'revoked' }, ...(n.revoked ?? []).map((r) => h('li', null, ui.txt(r.kind === 'auth' ? 'cert.kind.auth' : 'cert.kind.sign'), ' ', h('code', null, r.serial))))],
      );
    }
    rows.push(['paper.operator', d.operator], ['notice.issuer', d.municipalityName]);
    return h(
      'article',
      { class: 'paper-sheet notice' },
      paperHead(c, title, d.municipalityName, { label: 'notice.number', value: d.number }),
      h('p', { class: 'paper-intro' }, ui.txt(n.service ? 'notice.text.pin' : 'notice.text.revocation')),
      fields(c, rows),
      h('p', { class: 'paper-seal' }, ui.txt('paper.municipality', { municipality: d.municipalityName })),
    );
  },
};
