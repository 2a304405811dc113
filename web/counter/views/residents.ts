import { h } from '../../shared/dom.js';
import { field, input } from '../../shared/forms.js';
import type { Terminal } from '../context.js';
import type { ResidentView } from '../types.js';
import { page, submitButton, table } from './common.js';

/**
 * Find a resident of the operator's municipality (the API searches nowhere else): by part of the name,
 * the resident-record code or the id, optionally with the date of birth. The query lives in the address
 * (`#/residents?q=…`), so going back shows the same list.
 */
export async function residentsView(t: Terminal, _params: string[], query: URLSearchParams): Promise<HTMLElement> {
  const q = input({ name: 'q', type: 'search', value: query.get('q') ?? '', autocomplete: 'off', maxlength: 100 });
  const dob = input({ name: 'dateOfBirth', type: 'date', value: query.get('dateOfBirth') ?? '' });
  const form = h(
    'form',
    { class: 'search', attrs: { role: 'search' } },
    field(t.ui, { label: 'search.text', control: q, hint: 'search.hint', hintParams: { municipality: t.session.operator?.municipalityName ?? '' } }),
    field(t.ui, { label: 'search.dateOfBirth', control: dob }),
    submitButton(t, 'search.submit'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const p = new URLSearchParams();
    if (q.value.trim()) p.set('q', q.value.trim());
    if (dob.value) p.set('dateOfBirth', dob.value);
    t.go(`#/residents?${p.toString()}`);
  });

  const results = h('div', { class: 'results' });
  if (query.has('q') || query.has('dateOfBirth')) {
    const { residents } = await t.api.get<{ residents: ResidentView[] }>('/residents', { q: query.get('q') ?? undefined, dateOfBirth: query.get('dateOfBirth') ?? undefined, limit: '50' });
    if (residents.length === 0) results.append(t.ui.key(h('p', { class: 'empty', attrs: { role: 'status' } }), 'search.none'));
    else
      results.append(
        table(
          t,
          ['resident.name', 'resident.dateOfBirth', 'resident.sex', 'resident.address', 'resident.recordCode', 'resident.status'],
          residents.map((r) => [
            h('a', { attrs: { href: `#/residents/${encodeURIComponent(r.id)}`, 'data-resident': r.id } }, r.name),
            r.dateOfBirthJa,
            t.ui.txt(r.sex === '2' ? 'sex.2' : 'sex.1'),
            r.address,
            r.recordCode,
            t.ui.txt(`status.${r.status}`),
          ]),
          'search.results',
        ),
      );
    const caption = results.querySelector('caption');
    if (caption) t.ui.key(caption, 'search.results', { count: residents.length });
  }
  const moveIn =
    t.session.operator?.role === 'supervisor' ? h('p', { class: 'actions' }, t.ui.key(h('a', { class: 'button secondary', attrs: { href: '#/residents/new', 'data-action': 'move-in' } }), 'action.moveIn')) : null;
  return page(t, 'search.title', undefined, form, moveIn, results);
}
