import { eraDate } from '../../shared/dates.js';
import { h } from '../../shared/dom.js';
import type { DocumentView } from '../types.js';
import { date, fields, paperHead, type Paper } from './paper.js';

/** The receipt (領収書) for the issuance fee, numbered per municipality and year. */
export const receiptPaper: Paper<DocumentView> = {
  title: 'receipt.title',
  load: (api, number) => api.get<DocumentView>(`/receipts/${encodeURIComponent(number)}`),
  render(c, d) {
    const { ui } = c;
    const content = d.content as { residentName?: string; applicationNumber?: string; certificates?: { sign?: string; auth?: string } };
    return h(
      'article',
      { class: 'paper-sheet receipt' },
      paperHead(c, 'receipt.title', d.municipalityName, { label: 'receipt.number', value: d.number }),
      h('p', { class: 'addressee' }, ui.txt('receipt.addressee', { name: content.residentName ?? '' })),
      h('p', { class: 'amount' }, ui.txt('common.yen', { amount: d.amount.toLocaleString('ja-JP') })),
      fields(c, [
        ['receipt.item', ui.txt('receipt.fee')],
        ['receipt.date', date(c, d.issuedAt, eraDate(d.issuedAt))],
        ['receipt.application', content.applicationNumber ?? d.applicationNumber],
        ['receipt.serials', h('span', null, ...[content.certificates?.sign, content.certificates?.auth].filter(Boolean).flatMap((s) => [h('code', null, s!), ' ']))],
        ['paper.operator', d.operator],
      ]),
      h('p', null, ui.txt('receipt.received')),
      h('p', { class: 'paper-seal' }, ui.txt('paper.municipality', { municipality: d.municipalityName })),
    );
  },
};
