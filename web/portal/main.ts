import { ApiClient, ApiError } from '../shared/api.js';
import { AgentError, agentRequest, agentStatus, base64OfBytes, bytesOfBase64 } from '../shared/agent.js';
import { residentDate } from '../shared/dates.js';
import { clear, h, Ui, type Child } from '../shared/dom.js';
import { I18n } from '../shared/i18n.js';
import { languageSwitch } from '../shared/language-switch.js';
import { sharedMessages, type SharedKey } from '../shared/messages.js';
import { portalMessages, type PortalKey } from './messages.js';

/**
 * The public portal (docs/portal.md): home, the client software page, the trust anchors with their
 * fingerprints and CRLs, and the online window (validity check and online revocation through the resident's
 * local client agent). One script; the view is chosen by the path.
 */
type Key = PortalKey | SharedKey;
const i18n = new I18n<Key>(I18n.merge(sharedMessages, portalMessages));
const ui = new Ui<Key>(i18n);
const api = new ApiClient({
  base: '/api/portal',
  language: () => i18n.lang,
  networkMessage: () => i18n.t('common.network'),
  httpMessage: (status) => i18n.t('common.http', { status }),
});

interface TrustAnchor {
  id: string;
  kind: string;
  name: string;
  nameEn: string;
  subject: string;
  sha1: string;
  sha256: string;
  notBefore: string;
  notAfter: string;
  certificateUrl: string;
  crlUrl: string;
  arlUrl: string;
}

interface StatusAnswer {
  status: 'valid' | 'revoked' | 'expired';
  kind: string;
  serial: string;
  issuer: string;
  notAfter: string;
  revokedAt?: string;
  reason?: string;
}

interface Notice {
  noticeNumber: string;
  serial: string;
  issuer: string;
  kind: string;
  revokedAt: string;
  reason: string;
}

const VIEWS: Record<string, { nav: PortalKey; render: (main: HTMLElement) => void | Promise<void> }> = {
  '/': { nav: 'nav.home', render: home },
  '/client': { nav: 'nav.client', render: clientPage },
  '/trust-anchors': { nav: 'nav.anchors', render: anchorsPage },
  '/online': { nav: 'nav.online', render: onlinePage },
};

function section(title: PortalKey, ...children: Child[]): HTMLElement {
  return h('section', null, ui.key(h('h2'), title), ...children);
}

function p(key: PortalKey, params?: Record<string, string>): HTMLElement {
  return ui.key(h('p'), key, params);
}

function link(href: string, key: PortalKey): HTMLElement {
  return ui.key(h('a', { attrs: { href } }), key);
}

function home(main: HTMLElement): void {
  main.append(
    section('home.title', p('home.what')),
    section('home.how', h('ol', { class: 'steps' }, ...(['home.step1', 'home.step2', 'home.step3', 'home.step4'] as const).map((k) => ui.key(h('li'), k)))),
    section('home.links', h('ul', null, h('li', null, link('/client', 'home.linkClient')), h('li', null, link('/trust-anchors', 'home.linkAnchors')), h('li', null, link('/online', 'home.linkOnline')))),
  );
}

function command(text: string): HTMLElement {
  return h('pre', { class: 'command' }, h('code', null, text));
}

function clientPage(main: HTMLElement): void {
  const origin = location.origin;
  main.append(
    section('client.title', p('client.intro')),
    section('client.install', p('client.installText'), command('npm ci\nnpx jpki client --help'), p('client.reader')),
    section(
      'client.commands',
      h(
        'dl',
        null,
        ui.key(h('dt'), 'client.show'),
        h('dd', null, command('jpki client show --reader "Virtual PCD 00 00"\njpki client show --cert certificate.pem --details')),
        ui.key(h('dt'), 'client.pin'),
        h('dd', null, command('jpki client pin change --pin sign')),
        ui.key(h('dt'), 'client.fingerprints'),
        h('dd', null, command(`jpki client fingerprints --compare ${origin}/api/portal/trust-anchors`)),
        ui.key(h('dt'), 'client.check'),
        h('dd', null, command('jpki client check')),
        ui.key(h('dt'), 'client.sign'),
        h('dd', null, command('jpki client sign application.xml --out application.xml.p7s')),
        ui.key(h('dt'), 'client.agent'),
        h('dd', null, command(`jpki client agent --allow-origin ${origin}`), p('client.agentText')),
      ),
    ),
  );
}

async function anchorsPage(main: HTMLElement): Promise<void> {
  main.append(
    section('anchors.title', p('anchors.intro')),
    section('anchors.howTitle', h('ol', { class: 'steps' }, ui.key(h('li'), 'anchors.how1'), ui.key(h('li'), 'anchors.how2'), ui.key(h('li'), 'anchors.how3'))),
    h('p', null, ui.key(h('a', { attrs: { href: '/api/portal/trust-anchors', id: 'machine-list' } }), 'anchors.machine')),
  );
  const { anchors } = await api.get<{ anchors: TrustAnchor[] }>('/trust-anchors');
  const table = h(
    'table',
    { class: 'anchors' },
    h('thead', null, h('tr', null, ui.key(h('th', { attrs: { scope: 'col' } }), 'anchors.name'), ui.key(h('th', { attrs: { scope: 'col' } }), 'anchors.fingerprints'), ui.key(h('th', { attrs: { scope: 'col' } }), 'anchors.validity'), ui.key(h('th', { attrs: { scope: 'col' } }), 'anchors.downloads'))),
    h(
      'tbody',
      null,
      ...anchors.map((a) =>
        h(
          'tr',
          { attrs: { 'data-ca': a.id } },
          h('th', { attrs: { scope: 'row' } }, a.name, h('br'), h('small', null, a.nameEn)),
          h('td', null, h('div', { class: 'fingerprint' }, `SHA-256: ${a.sha256}`), h('div', { class: 'fingerprint' }, `SHA-1: ${a.sha1}`)),
          h('td', null, `${residentDate(a.notBefore, i18n.lang)} – ${residentDate(a.notAfter, i18n.lang)}`),
          h('td', null, ui.key(h('a', { attrs: { href: a.certificateUrl, download: `${a.id}.cer` } }), 'anchors.cert'), ' ', ui.key(h('a', { attrs: { href: a.crlUrl } }), 'anchors.crl'), ' ', ui.key(h('a', { attrs: { href: a.arlUrl } }), 'anchors.arl')),
        ),
      ),
    ),
  );
  main.append(table);
}

function alert(text: string): HTMLElement {
  return h('p', { class: 'alert alert-error', attrs: { role: 'alert' } }, text);
}

function errorText(e: unknown): string {
  if (e instanceof ApiError || e instanceof AgentError) return `${e.message} [${e.code}]`;
  return String(e);
}

async function onlinePage(main: HTMLElement): Promise<void> {
  const { agentUrl } = await api.get<{ agentUrl: string }>('/config');
  const agentLine = h('span', { id: 'agent-status', attrs: { role: 'status' } });
  main.append(section('online.title', p('online.intro'), h('p', null, ui.key(h('strong'), 'online.agent'), ': ', agentLine)));
  agentStatus(agentUrl).then(
    (s) => agentLine.append(ui.key(h('span'), 'online.agentOk', { card: i18n.t(s.card ? 'online.cardYes' : 'online.cardNo') })),
    () => agentLine.append(ui.key(h('span'), 'online.agentMissing', { origin: location.origin })),
  );

  const whichName = 'which';
  const which = h(
    'fieldset',
    null,
    ui.key(h('legend'), 'online.which'),
    h('label', null, h('input', { attrs: { type: 'radio', name: whichName, value: 'sign', checked: true } }), ' ', ui.txt('online.whichSign')),
    ' ',
    h('label', null, h('input', { attrs: { type: 'radio', name: whichName, value: 'auth' } }), ' ', ui.txt('online.whichAuth')),
  );
  const key = () => ((which.querySelector<HTMLInputElement>('input:checked')?.value ?? 'sign') as 'sign' | 'auth');

  // Validity check: the agent reads the certificate from the card; the portal answers with its status now.
  const checkResult = h('div', { id: 'check-result', attrs: { 'aria-live': 'polite' } });
  const checkButton = ui.key(h('button', { id: 'check', attrs: { type: 'button' } }), 'online.check');
  checkButton.addEventListener('click', () => {
    const win = window.open('about:blank', '_blank', 'popup,width=640,height=720');
    clear(checkResult);
    checkResult.append(p('online.working'));
    void (async () => {
      try {
        const { certificate } = await agentRequest(agentUrl, { type: 'certificate', key: key() }, { window: win, lang: i18n.lang });
        const { data } = await api.post<StatusAnswer>('/online/status', { certificate });
        clear(checkResult);
        checkResult.append(statusView(data));
      } catch (e) {
        clear(checkResult);
        checkResult.append(alert(errorText(e)));
      }
    })();
  });

  // Online revocation: a fresh challenge, signed by the card through the agent, sent with the certificate.
  const reasons = ['unspecified', 'keyCompromise', 'affiliationChanged', 'cessationOfOperation'] as const;
  const reason = h('select', { id: 'reason', attrs: { name: 'reason' } }, ...reasons.map((r) => ui.key(h('option', { attrs: { value: r } }), `online.reason.${r}`)));
  const confirm = h('input', { id: 'confirm', attrs: { type: 'checkbox' } });
  const revokeResult = h('div', { id: 'revoke-result', attrs: { 'aria-live': 'polite' } });
  const revokeButton = ui.key(h('button', { id: 'revoke', attrs: { type: 'button', disabled: true } }), 'online.revoke');
  confirm.addEventListener('change', () => (revokeButton.disabled = !confirm.checked));
  revokeButton.addEventListener('click', () => {
    const win = window.open('about:blank', '_blank', 'popup,width=640,height=720');
    clear(revokeResult);
    revokeResult.append(p('online.working'));
    revokeButton.disabled = true;
    void (async () => {
      try {
        const { data: challenge } = await api.post<{ id: string; content: string }>('/online/challenges', { purpose: 'revocation' });
        const text = new TextDecoder().decode(bytesOfBase64(challenge.content));
        const signed = await agentRequest(
          agentUrl,
          { type: 'sign', key: key(), content: base64OfBytes(new TextEncoder().encode(text)), contentType: 'text/plain; charset=utf-8', summary: i18n.t('online.revokeTitle') },
          { window: win, lang: i18n.lang },
        );
        const { data } = await api.post<Notice>('/online/revocations', { challengeId: challenge.id, signature: signed.signature, certificate: signed.certificate, reason: reason.value });
        clear(revokeResult);
        revokeResult.append(noticeView(data));
      } catch (e) {
        clear(revokeResult);
        revokeResult.append(alert(errorText(e)));
        revokeButton.disabled = !confirm.checked;
      }
    })();
  });

  main.append(
    which,
    section('online.checkTitle', h('p', null, checkButton), checkResult),
    section(
      'online.revokeTitle',
      p('online.revokeIntro'),
      h('p', null, ui.key(h('label', { attrs: { for: 'reason' } }), 'online.reasonLabel'), ' ', reason),
      h('p', null, h('label', null, confirm, ' ', ui.txt('online.confirm'))),
      h('p', null, revokeButton),
      revokeResult,
    ),
  );
}

function row(label: PortalKey, value: string): HTMLElement {
  return h('tr', null, ui.key(h('th', { attrs: { scope: 'row' } }), label), h('td', null, value));
}

function statusView(s: StatusAnswer): HTMLElement {
  const verdict = ui.key(h('p', { class: `verdict ${s.status}`, attrs: { 'data-status': s.status } }), s.status === 'valid' ? 'online.valid' : s.status === 'revoked' ? 'online.revoked' : 'online.expired');
  const rows = [row('online.serial', s.serial), row('online.issuer', s.issuer), row('online.notAfter', residentDate(s.notAfter, i18n.lang))];
  if (s.revokedAt) rows.push(row('online.revokedAt', residentDate(s.revokedAt, i18n.lang)), row('online.reason', i18n.t(`online.reason.${s.reason}` as PortalKey) || s.reason!));
  return h('div', null, verdict, h('table', null, ...rows));
}

function noticeView(n: Notice): HTMLElement {
  return h(
    'div',
    { class: 'notice', id: 'notice' },
    ui.key(h('h3'), 'online.noticeTitle'),
    p('online.notice'),
    h(
      'table',
      null,
      row('online.noticeNumber', n.noticeNumber),
      row('online.which', i18n.t(n.kind === 'auth' ? 'online.kind.auth' : 'online.kind.sign')),
      row('online.serial', n.serial),
      row('online.issuer', n.issuer),
      row('online.revokedAt', residentDate(n.revokedAt, i18n.lang)),
      row('online.reason', i18n.t(`online.reason.${n.reason}` as PortalKey)),
    ),
  );
}

async function start(root: HTMLElement): Promise<void> {
  const view = VIEWS[location.pathname] ?? VIEWS['/']!;
  document.title = i18n.t('app.title');
  const nav = h('nav', { class: 'portal-nav', attrs: { 'aria-label': i18n.t('nav.label') } });
  for (const [path, v] of Object.entries(VIEWS)) nav.append(ui.key(h('a', { attrs: { href: path, 'aria-current': v === view ? 'page' : undefined } }), v.nav), ' ');
  const main = h('main', { class: 'portal-main', id: 'main' });
  clear(root);
  root.append(h('header', { class: 'portal-header' }, ui.key(h('h1'), 'app.title'), languageSwitch(ui), nav), main);
  try {
    await view.render(main);
  } catch (e) {
    main.append(alert(errorText(e)));
  }
  i18n.onChange(() => (document.title = i18n.t('app.title')));
  document.body.dataset.ready = 'true';
}

void start(document.getElementById('app')!);
