import { eraDate } from '../../shared/dates.js';
import { h } from '../../shared/dom.js';
import type { Terminal } from '../context.js';
import type { ApplicationView, ResidentOverview } from '../types.js';
import { definitions, page, paperLink, subheading, table } from './common.js';

/**
 * One resident of the operator's municipality: the register's facts, the certificates and the applications,
 * and the services the counter offers. For a resident of another municipality the API answers 403 and the
 * router shows that refusal instead: nothing of the resident, no action.
 */
export async function residentView(t: Terminal, [id]: string[]): Promise<HTMLElement> {
  const o = await t.api.get<ResidentOverview>(`/residents/${encodeURIComponent(id!)}`);
  const r = o.resident;
  const base = `#/residents/${encodeURIComponent(r.id)}`;
  const actions = h(
    'nav',
    { class: 'actions', attrs: { 'aria-labelledby': 'resident-actions' } },
    t.ui.key(h('h3', { id: 'resident-actions' }), 'resident.actions'),
    h(
      'ul',
      null,
      r.status === 'registered' ? h('li', null, t.ui.key(h('a', { class: 'button', attrs: { href: `${base}/issue`, 'data-action': 'issue' } }), 'action.issue')) : null,
      h('li', null, t.ui.key(h('a', { class: 'button', attrs: { href: `${base}/revoke`, 'data-action': 'revoke' } }), 'action.revoke')),
      h('li', null, t.ui.key(h('a', { class: 'button', attrs: { href: `${base}/pins`, 'data-action': 'pins' } }), 'action.pins')),
      r.status === 'registered' && t.session.operator?.role === 'supervisor'
        ? h('li', null, t.ui.key(h('a', { class: 'button', attrs: { href: `${base}/changes`, 'data-action': 'changes' } }), 'action.changes'))
        : null,
    ),
  );
  const certificates = o.certificates.length
    ? table(
        t,
        ['cert.kind', 'cert.serial', 'cert.validity', 'cert.status', 'cert.card'],
        o.certificates.map((c) => [
          t.ui.txt(c.kind === 'auth' ? 'cert.kind.auth' : 'cert.kind.sign'),
          h('code', null, c.serial),
          t.ui.txt('validity.range', { from: eraDate(c.notBefore), to: eraDate(c.notAfter) }),
          h('span', { class: `status-${c.status}` }, t.ui.txt(`cert.status.${c.status}`)),
          c.cardId ?? '',
        ]),
      )
    : t.ui.key(h('p', { class: 'empty' }), 'resident.noCertificates');

  return page(
    t,
    'resident.title',
    undefined,
    h('p', { class: 'resident-name' }, r.name),
    definitions(t, [
      ['resident.name', r.name],
      ['resident.dateOfBirth', r.dateOfBirthJa],
      ['resident.sex', t.ui.txt(r.sex === '2' ? 'sex.2' : 'sex.1')],
      ['resident.address', r.address],
      ['resident.recordCode', r.recordCode],
      ['resident.status', t.ui.txt(`status.${r.status}`)],
    ]),
    actions,
    subheading(t, 'resident.certificates'),
    certificates,
    subheading(t, 'resident.applications'),
    o.applications.length
      ? table(
          t,
          ['app.number', 'app.kind', 'app.status', 'app.papers'],
          o.applications.map((a) => [a.number, t.ui.txt(`app.kind.${a.kind}`), t.ui.txt(`app.status.${a.status}`), applicationLinks(t, a)]),
        )
      : t.ui.key(h('p', { class: 'empty' }), 'resident.noApplications'),
  );
}

function applicationLinks(t: Terminal, a: ApplicationView): HTMLElement {
  const links = h('span', { class: 'links' });
  if (a.kind === 'issuance' && a.status === 'open') links.append(t.ui.key(h('a', { attrs: { href: `#/issuances/${encodeURIComponent(a.number)}` } }), 'app.continue'));
  if (a.kind === 'issuance' && a.status === 'completed') {
    links.append(paperLink(t, 'certificate-copy', a.number), ' ', paperLink(t, 'usage-guide', a.number));
    if (typeof a.result?.receipt === 'string') links.append(' ', paperLink(t, 'receipt', a.result.receipt));
  }
  // revocations and PIN services end in a numbered notice of acceptance (受理通知書)
  if (a.kind !== 'issuance' && a.status === 'completed' && typeof a.result?.notice === 'string') links.append(paperLink(t, 'notice', a.result.notice));
  return links;
}
