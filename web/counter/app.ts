import { ApiClient, ApiError } from '../shared/api.js';
import { clear, focusHeading, h, Ui } from '../shared/dom.js';
import { showError } from '../shared/forms.js';
import { I18n } from '../shared/i18n.js';
import { languageSwitch } from '../shared/language-switch.js';
import { sharedMessages } from '../shared/messages.js';
import type { Key, Session, Terminal, View } from './context.js';
import { counterMessages } from './messages.js';
import { supervisorMessages } from './supervisor-messages.js';
import type { MeAnswer } from './types.js';
import { issuanceView, newIssuanceView } from './views/issuance.js';
import { ledgerView } from './views/ledger.js';
import { loginView } from './views/login.js';
import { operatorsView } from './views/operators.js';
import { pinServicesView } from './views/pin-services.js';
import { moveInView, registerChangesView } from './views/register-changes.js';
import { residentView } from './views/resident.js';
import { residentsView } from './views/residents.js';
import { revocationView } from './views/revocation.js';

/**
 * The web counter terminal at /counter: one page, screens chosen by the address's hash (`#/residents/…`),
 * everything through the counter API (docs/counter.md §10, docs/web.md).
 */
const ROUTES: [RegExp, View][] = [
  [/^\/residents$/, residentsView],
  [/^\/residents\/new$/, moveInView],
  [/^\/residents\/([^/]+)$/, residentView],
  [/^\/residents\/([^/]+)\/issue$/, newIssuanceView],
  [/^\/residents\/([^/]+)\/revoke$/, revocationView],
  [/^\/residents\/([^/]+)\/pins$/, pinServicesView],
  [/^\/residents\/([^/]+)\/changes$/, registerChangesView],
  [/^\/issuances\/([^/]+)$/, issuanceView],
  [/^\/ledger$/, ledgerView],
  [/^\/operators$/, operatorsView],
];

function parseHash(): { path: string; query: URLSearchParams } {
  const raw = location.hash.replace(/^#/, '') || '/residents';
  const [path, search] = raw.split('?', 2) as [string, string | undefined];
  return { path, query: new URLSearchParams(search ?? '') };
}

export async function startCounter(root: HTMLElement): Promise<void> {
  const i18n = new I18n<Key>(I18n.merge(I18n.merge(sharedMessages, counterMessages), supervisorMessages));
  const ui = new Ui<Key>(i18n);
  const session: Session = { operator: null, csrfToken: null };
  const api = new ApiClient({
    base: '/api/counter',
    language: () => i18n.lang,
    csrfToken: () => session.csrfToken ?? undefined,
    networkMessage: () => ui.t('common.network'),
    httpMessage: (status) => ui.t('common.http', { status }),
  });

  const header = h('header', { class: 'app-header' });
  const main = h('main', { id: 'main', attrs: { tabindex: -1 } });
  const skip = ui.key(h('a', { class: 'skip-link', attrs: { href: '#main' } }), 'common.skip');
  skip.addEventListener('click', (e) => {
    e.preventDefault();
    main.focus();
  });
  clear(root);
  root.append(skip, header, main);

  let rendering = 0;
  // The operator line mixes data and a translated word: rebuilt on every language switch.
  let refreshOperatorLine = (): void => {};
  i18n.onChange(() => refreshOperatorLine());
  const terminal: Terminal = {
    ui,
    api,
    session,
    go(hash) {
      if (location.hash === hash) void route();
      else location.hash = hash;
    },
    sessionChanged: () => drawHeader(),
    sessionEnded(e) {
      session.operator = null;
      session.csrfToken = null;
      drawHeader();
      void show(() => loginView(terminal, [], new URLSearchParams(), e));
    },
  };

  function drawHeader(): void {
    const op = session.operator;
    const title = ui.key(h('h1'), 'app.title');
    const right = h('div', { class: 'header-tools' }, languageSwitch(ui));
    header.replaceChildren(h('div', { class: 'header-bar' }, title, right));
    refreshOperatorLine = () => {};
    if (!op) return;
    const operator = h('p', { class: 'operator', attrs: { 'data-operator': op.name } });
    refreshOperatorLine = () =>
      operator.replaceChildren(ui.t('header.operator', { name: op.name, municipality: i18n.lang === 'ja' ? op.municipalityName : op.municipalityNameEn, role: ui.t(`role.${op.role}`) }));
    refreshOperatorLine();
    const logout = h('form', { class: 'logout' }, ui.key(h('button', { class: 'secondary', attrs: { type: 'submit' } }), 'nav.logout'));
    logout.addEventListener('submit', (e) => {
      e.preventDefault();
      void (async () => {
        try {
          await api.post('/logout', undefined);
        } catch {
          // the session may already be gone; either way the terminal forgets it
        }
        session.operator = null;
        session.csrfToken = null;
        drawHeader();
        terminal.go('#/login?loggedOut=1');
      })();
    });
    const nav = ui.attr(
      h(
        'nav',
        { class: 'main-nav' },
        h(
          'ul',
          null,
          h('li', null, ui.key(h('a', { attrs: { href: '#/residents' } }), 'nav.residents')),
          h('li', null, ui.key(h('a', { attrs: { href: '#/ledger' } }), 'nav.ledger')),
          // the supervisor's screens (the API refuses them to clerks all the same)
          op.role === 'supervisor' ? h('li', null, ui.key(h('a', { attrs: { href: '#/operators' } }), 'nav.operators')) : null,
        ),
      ),
      'aria-label',
      'nav.label',
    );
    right.prepend(operator);
    header.append(h('div', { class: 'nav-bar' }, nav, logout));
  }

  /** Draws a screen; a refusal from the API (403 of another municipality, 404…) is shown in its place. */
  async function show(build: () => Promise<HTMLElement>): Promise<void> {
    const mine = ++rendering;
    // `body[data-ready]`: the screen is drawn (what tests and assistive tools can wait for).
    delete document.body.dataset.ready;
    main.setAttribute('aria-busy', 'true');
    main.replaceChildren(ui.key(h('p', { class: 'loading' }), 'common.loading'));
    let view: HTMLElement;
    try {
      view = await build();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      if (e.code === 'COUNTER_SESSION_REQUIRED') return terminal.sessionEnded(e);
      const box = h('div', { class: 'messages' });
      showError(box, e);
      view = h('section', { class: 'page refused' }, ui.key(h('h2'), 'error.title'), box, h('p', null, ui.key(h('a', { attrs: { href: '#/residents' } }), 'nav.residents')));
    }
    if (mine !== rendering) return;
    main.replaceChildren(view);
    main.removeAttribute('aria-busy');
    document.body.dataset.ready = 'true';
    document.title = `${view.querySelector('h2')?.textContent ?? ''} — ${ui.t('app.title')}`;
    focusHeading(main);
  }

  async function route(): Promise<void> {
    const { path, query } = parseHash();
    if (!session.operator || path === '/login') {
      if (session.operator && path === '/login') return terminal.go('#/residents');
      return show(() => loginView(terminal, [], query));
    }
    for (const [pattern, view] of ROUTES) {
      const m = pattern.exec(path);
      if (m) return show(() => view(terminal, m.slice(1).map(decodeURIComponent), query));
    }
    return terminal.go('#/residents');
  }

  i18n.onChange((language) => {
    // The operator's language setting follows the switch, so the API answers in it everywhere.
    if (session.operator && session.operator.language !== language) {
      session.operator.language = language;
      void api.post('/me/language', { language }).catch(() => undefined);
    }
    if (main.querySelector('h2')) document.title = `${main.querySelector('h2')!.textContent} — ${ui.t('app.title')}`;
  });

  i18n.apply(document.documentElement);
  drawHeader();
  try {
    // After a reload the session cookie may still be good: /me gives the operator and the CSRF token again.
    const me = await api.get<MeAnswer>('/me');
    session.operator = me.operator;
    session.csrfToken = me.csrfToken;
    drawHeader();
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    if (e.code !== 'COUNTER_SESSION_REQUIRED') {
      const box = h('div', { class: 'messages' });
      showError(box, e);
      main.replaceChildren(box);
      return;
    }
  }
  window.addEventListener('hashchange', () => void route());
  await route();
}
