import { timeOfDay, todayInJapan } from '../../shared/dates.js';
import { h } from '../../shared/dom.js';
import { field, input, setFieldError } from '../../shared/forms.js';
import type { Terminal } from '../context.js';
import type { DocumentView, Ledger } from '../types.js';
import { definitions, page, paperLink, submitButton, table } from './common.js';

/** The day's ledger (業務日誌): the applications taken that day, their papers, and the totals. */
export async function ledgerView(t: Terminal, _params: string[], query: URLSearchParams): Promise<HTMLElement> {
  const date = query.get('date') ?? todayInJapan();
  const ledger = await t.api.get<Ledger>('/ledger', { date });
  const day = input({ name: 'date', type: 'date', value: ledger.date, required: true });
  const form = h('form', { class: 'ledger-date' }, field(t.ui, { label: 'ledger.date', control: day }), submitButton(t, 'ledger.show'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (day.value) t.go(`#/ledger?date=${day.value}`);
  });
  const scope = ledger.scope === 'own' ? t.ui.key(h('p'), 'ledger.scope.own', { operator: ledger.operator ?? '' }) : t.ui.key(h('p'), 'ledger.scope.all', { municipality: ledger.municipalityName });
  const papers = (docs: DocumentView[]) => h('span', { class: 'links' }, ...docs.flatMap((d) => [paperLink(t, d.type === 'receipt' ? 'receipt' : 'notice', d.number), ' ']));
  const entries = ledger.entries.length
    ? table(
        t,
        ['ledger.time', 'app.number', 'app.kind', 'ledger.resident', 'app.status', 'ledger.fee', 'ledger.operator', 'app.papers'],
        ledger.entries.map((e) => [
          timeOfDay(e.createdAt),
          e.number,
          t.ui.txt(`app.kind.${e.kind}`),
          e.residentName,
          t.ui.txt(`app.status.${e.status}`),
          e.fee ? t.ui.txt('common.yen', { amount: e.fee }) : '',
          e.operator,
          papers(e.documents),
        ]),
      )
    : t.ui.key(h('p', { class: 'empty' }), 'ledger.empty');
  entries.classList.add('ledger-entries');
  const n = (v: number) => t.ui.txt('count', { n: v });
  const totals = h(
    'section',
    { class: 'totals', attrs: { 'aria-labelledby': 'ledger-totals' } },
    t.ui.key(h('h3', { id: 'ledger-totals' }), 'ledger.totals'),
    definitions(t, [
      ['ledger.total.applications', n(ledger.totals.applications)],
      ['ledger.total.completed', n(ledger.totals.completed)],
      ['ledger.total.open', n(ledger.totals.open)],
      ['ledger.total.cancelled', n(ledger.totals.cancelled)],
      ['ledger.total.receipts', h('span', { attrs: { 'data-total': 'receipts' } }, n(ledger.totals.receipts))],
      ['ledger.total.fees', h('span', { attrs: { 'data-total': 'fees' } }, t.ui.txt('common.yen', { amount: ledger.totals.fees }))],
      ['ledger.total.notices', h('span', { attrs: { 'data-total': 'notices' } }, n(ledger.totals.notices))],
    ]),
  );
  return page(t, 'ledger.title', undefined, form, scope, entries, totals, paperLookup(t));
}

/** Any receipt (R-…) or notice (N-…) of this counter by its number, e.g. for a reprint. */
function paperLookup(t: Terminal): HTMLElement {
  const number = input({ name: 'paper', autocomplete: 'off', maxlength: 40 });
  const form = h('form', { class: 'paper-lookup' }, field(t.ui, { label: 'ledger.paper', control: number, hint: 'ledger.paper.hint' }), submitButton(t, 'ledger.paper.open'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const n = number.value.trim().toUpperCase();
    const paper = n.startsWith('R-') ? 'receipt' : n.startsWith('N-') ? 'notice' : null;
    setFieldError(t.ui, number, paper ? null : 'ledger.paper.error');
    if (paper) window.open(`/counter/print/${paper}?number=${encodeURIComponent(n)}`, '_blank', 'noopener');
  });
  return h('section', { class: 'paper-lookup-section' }, t.ui.key(h('h3'), 'ledger.paper.title'), form);
}
