import { ApiClient, ApiError } from '../shared/api.js';
import { AgentError, agentRequest, agentStatus, bytesOfBase64 } from '../shared/agent.js';
import { residentDate } from '../shared/dates.js';
import { clear, focusHeading, h, Ui, type Child } from '../shared/dom.js';
import { I18n } from '../shared/i18n.js';
import { languageSwitch } from '../shared/language-switch.js';
import { sharedMessages, type SharedKey } from '../shared/messages.js';
import { agencyMessages, type AgencyKey } from './messages.js';

/**
 * The sample agency's e-application site (docs/agency.md): the procedures, each procedure's form → check and
 * sign with the card through the resident's local client agent (the PIN is typed in the agent's window) →
 * send, then the receipt number or the reasons for a rejection; and the staff's list of applications with
 * their verification reports. One script; the view is chosen by the path.
 */
type Key = AgencyKey | SharedKey;
const i18n = new I18n<Key>(I18n.merge(sharedMessages, agencyMessages));
const ui = new Ui<Key>(i18n);
const api = new ApiClient({
  base: '/api/agency',
  language: () => i18n.lang,
  networkMessage: () => i18n.t('common.network'),
  httpMessage: (status) => i18n.t('common.http', { status }),
});

type FieldKind = 'text' | 'date' | 'number' | 'scope' | 'boolean';
interface FieldDef {
  name: string;
  kind: FieldKind;
  hint?: AgencyKey;
  max?: number;
}
type FormValues = Record<string, string | number | boolean>;

const PERSON: FieldDef[] = [
  { name: 'name', kind: 'text', hint: 'field.name.hint', max: 100 },
  { name: 'dateOfBirth', kind: 'date' },
  { name: 'address', kind: 'text', hint: 'field.address.hint', max: 200 },
];

/** The forms, in the order of the signed document (src/agency/procedures.ts). */
const PROCEDURES: Record<string, FieldDef[]> = {
  'moving-out': [...PERSON, { name: 'newAddress', kind: 'text', hint: 'field.address.hint', max: 200 }, { name: 'movingDate', kind: 'date' }],
  'residence-certificate': [...PERSON, { name: 'scope', kind: 'scope' }, { name: 'copies', kind: 'number' }, { name: 'includeDomicile', kind: 'boolean' }, { name: 'purpose', kind: 'text', max: 100 }],
};

interface Prepared {
  procedure: string;
  documentId: string;
  content: string;
  contentType: string;
  summary: string;
}

interface Receipt {
  status: 'accepted';
  receiptNumber: string;
  procedure: string;
  title: string;
  receivedAt: string;
  applicant: { name: string; address: string };
}

interface StaffApplication {
  receiptNumber: string;
  procedure: string;
  title: string;
  status: 'accepted' | 'rejected';
  receivedAt: string;
  applicantName: string;
  form: FormValues;
  verdict: string;
  reasons: { source: string; code: string; message: string }[];
  verified: { name: string; address: string; dateOfBirth: string; dateOfBirthEra: string; sex: string } | null;
  signer: { subject: string; issuer: string; serial: string; notBefore: string; notAfter: string } | null;
  signingTime: string | null;
  signatureAlgorithm: string | null;
  path: { subject: string; serial: string; anchor: boolean; revocation: string }[];
}

const k = (s: string) => s as Key;

function alert(text: string, code?: string): HTMLElement {
  return h('div', { class: 'alert error', attrs: { role: 'alert', 'data-code': code } }, h('p', null, text), code ? h('p', { class: 'code' }, `[${code}]`) : null);
}

function errorText(e: unknown): { text: string; code?: string } {
  if (e instanceof ApiError || e instanceof AgentError) return { text: e.message, code: e.code };
  return { text: String(e) };
}

/** A date of the form (YYYY-MM-DD) as residents read it: the era calendar, in Japan. */
function formDate(d: string): string {
  return residentDate(`${d}T00:00:00+09:00`, i18n.lang);
}

function shownValue(f: FieldDef, v: string | number | boolean | undefined): Child {
  if (v === undefined || v === '') return '';
  if (f.kind === 'date') return formDate(String(v));
  if (f.kind === 'scope') return ui.txt(k(`field.scope.${String(v)}`));
  if (f.kind === 'boolean') return ui.txt(v ? 'field.yes' : 'field.no');
  return String(v);
}

function row(label: Key, value: Child, cls?: string): HTMLElement {
  return h('tr', null, ui.key(h('th', { attrs: { scope: 'row' } }), label), h('td', { class: cls }, value));
}

function home(main: HTMLElement): void {
  main.append(
    h('section', null, ui.key(h('h2'), 'home.title'), ui.key(h('p'), 'home.intro')),
    h('section', null, ui.key(h('h3'), 'home.steps'), h('ol', null, ui.key(h('li'), 'home.step1'), ui.key(h('li'), 'home.step2'), ui.key(h('li'), 'home.step3'))),
    h(
      'ul',
      { class: 'procedures' },
      ...Object.keys(PROCEDURES).map((id) =>
        h('li', { attrs: { 'data-procedure': id } }, ui.key(h('h3'), k(`proc.${id}`)), ui.key(h('p'), k(`proc.${id}.text`)), ui.key(h('a', { class: 'button', attrs: { href: `/agency/${id}` } }), 'proc.open')),
      ),
    ),
  );
}

function control(f: FieldDef): { el: HTMLElement; value: () => string | number | boolean } {
  const id = `f-${f.name}`;
  const label = k(`field.${f.name}`);
  const hint = f.hint ? ui.key(h('p', { class: 'hint', id: `${id}-hint` }), f.hint) : null;
  if (f.kind === 'scope') {
    const radios = (['self', 'household'] as const).map((v) => h('input', { attrs: { type: 'radio', name: f.name, value: v, checked: v === 'self', id: `${id}-${v}` } }));
    const el = h('fieldset', { id }, ui.key(h('legend'), label), h('div', { class: 'choices' }, ...radios.map((r) => h('label', { class: 'choice' }, r, ui.txt(k(`field.scope.${r.value}`))))));
    return { el, value: () => radios.find((r) => r.checked)?.value ?? 'self' };
  }
  if (f.kind === 'boolean') {
    const box = h('input', { id, attrs: { type: 'checkbox', name: f.name } });
    return { el: h('div', { class: 'field' }, h('label', { class: 'choice' }, box, ui.txt(label))), value: () => box.checked };
  }
  const input = h('input', {
    id,
    attrs: {
      name: f.name,
      type: f.kind === 'date' ? 'date' : f.kind === 'number' ? 'number' : 'text',
      required: true,
      maxlength: f.max,
      min: f.kind === 'number' ? 1 : undefined,
      max: f.kind === 'number' ? 10 : undefined,
      value: f.kind === 'number' ? 1 : undefined,
      'aria-describedby': hint ? hint.id : undefined,
      autocomplete: f.name === 'name' ? 'name' : f.name === 'address' ? 'street-address' : undefined,
    },
  });
  return {
    el: h('div', { class: 'field' }, ui.key(h('label', { attrs: { for: id } }), label), hint, input),
    value: () => (f.kind === 'number' ? Number(input.value) : input.value.trim()),
  };
}

async function procedurePage(main: HTMLElement, procedure: string, fields: FieldDef[]): Promise<void> {
  const { agentUrl } = await api.get<{ agentUrl: string }>('/config');
  const steps = (['step.form', 'step.confirm', 'step.send'] as const).map((s) => ui.key(h('li'), s));
  const setStep = (n: number) => steps.forEach((s, i) => (i === n ? s.setAttribute('aria-current', 'step') : s.removeAttribute('aria-current')));
  const stage = h('div', { id: 'stage' });
  const agentLine = h('span', { id: 'agent-status', attrs: { role: 'status' } });
  main.append(
    h('section', null, ui.key(h('h2'), k(`proc.${procedure}`)), ui.key(h('p'), k(`proc.${procedure}.text`)), h('p', null, ui.key(h('strong'), 'agent.label'), ': ', agentLine), h('ol', { class: 'steps-bar' }, ...steps)),
    stage,
  );
  agentStatus(agentUrl).then(
    (s) => agentLine.append(ui.key(h('span', { attrs: { 'data-agent': 'ok' } }), s.card ? 'agent.ok' : 'agent.noCard')),
    () => agentLine.append(ui.key(h('span', { attrs: { 'data-agent': 'missing' } }), 'agent.missing', { origin: location.origin })),
  );

  const controls = fields.map((f) => ({ f, ...control(f) }));
  const messages = h('div', { class: 'messages', attrs: { 'aria-live': 'polite' } });
  const prepare = ui.key(h('button', { id: 'prepare', class: 'primary', attrs: { type: 'submit' } }), 'form.prepare');
  const form = h('form', { id: 'application', attrs: { novalidate: true } }, ...controls.map((c) => c.el), messages, h('div', { class: 'actions' }, prepare));

  const showForm = () => {
    setStep(0);
    clear(stage);
    stage.append(form);
  };

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const values: FormValues = Object.fromEntries(controls.map((c) => [c.f.name, c.value()]));
    prepare.disabled = true;
    clear(messages);
    void (async () => {
      try {
        const { data } = await api.post<Prepared>('/documents', { procedure, form: values });
        confirmView(values, data);
      } catch (e) {
        const { text, code } = errorText(e);
        messages.append(alert(text, code));
      } finally {
        prepare.disabled = false;
      }
    })();
  });

  const confirmView = (values: FormValues, prepared: Prepared) => {
    setStep(1);
    clear(stage);
    const result = h('div', { id: 'result', attrs: { 'aria-live': 'polite' } });
    const sign = ui.key(h('button', { id: 'sign', class: 'primary', attrs: { type: 'button' } }), 'confirm.sign');
    const edit = ui.key(h('button', { id: 'edit', attrs: { type: 'button' } }), 'confirm.edit');
    edit.addEventListener('click', showForm);
    const document = new TextDecoder().decode(bytesOfBase64(prepared.content));
    stage.append(
      ui.key(h('p'), 'confirm.intro'),
      h('table', { id: 'confirmation' }, ...fields.map((f) => row(k(`field.${f.name}`), shownValue(f, values[f.name])))),
      h('details', null, ui.key(h('summary'), 'confirm.document'), h('pre', { class: 'document' }, document)),
      h('div', { class: 'actions' }, sign, edit),
      result,
    );
    focusHeading(main);
    sign.addEventListener('click', () => {
      // opened in the click itself, so no popup blocker stops it
      const win = window.open('about:blank', '_blank', 'popup,width=640,height=720');
      sign.disabled = true;
      edit.disabled = true;
      clear(result);
      result.append(ui.key(h('p'), 'working.sign'));
      void (async () => {
        try {
          const signed = await agentRequest(agentUrl, { type: 'sign', key: 'sign', content: prepared.content, contentType: prepared.contentType, summary: prepared.summary }, { window: win, lang: i18n.lang });
          signedView(values, prepared, signed);
        } catch (e) {
          const { text, code } = errorText(e);
          clear(result);
          result.append(alert(text, code));
          sign.disabled = false;
          edit.disabled = false;
        }
      })();
    });
  };

  const signedView = (values: FormValues, prepared: Prepared, signed: { signature: string; certificate: string }) => {
    setStep(2);
    clear(stage);
    const result = h('div', { id: 'result', attrs: { 'aria-live': 'polite' } });
    const send = ui.key(h('button', { id: 'send', class: 'primary', attrs: { type: 'button' } }), 'signed.send');
    stage.append(h('div', { class: 'alert success', attrs: { role: 'status' } }, ui.key(h('p'), 'signed.done')), h('div', { class: 'actions' }, send), result);
    send.addEventListener('click', () => {
      send.disabled = true;
      clear(result);
      result.append(ui.key(h('p'), 'working.send'));
      void (async () => {
        try {
          const { data } = await api.post<Receipt>('/applications', { procedure, form: values, content: prepared.content, signature: signed.signature, certificate: signed.certificate });
          clear(stage);
          stage.append(receiptView(data));
        } catch (e) {
          clear(result);
          if (e instanceof ApiError && e.code === 'AGENCY_APPLICATION_REJECTED') {
            clear(stage);
            stage.append(rejectionView(e));
          } else {
            const { text, code } = errorText(e);
            result.append(alert(text, code));
            send.disabled = false;
          }
        }
      })();
    });
  };

  showForm();
}

function receiptView(r: Receipt): HTMLElement {
  return h(
    'div',
    { class: 'receipt', id: 'receipt' },
    ui.key(h('h3'), 'receipt.title'),
    ui.key(h('p'), 'receipt.text'),
    h(
      'table',
      null,
      row('receipt.number', r.receiptNumber, 'receipt-number'),
      row('receipt.receivedAt', residentDate(r.receivedAt, i18n.lang)),
      row('receipt.procedure', ui.txt(k(`proc.${r.procedure}`))),
      row('receipt.name', r.applicant.name, 'applicant-name'),
      row('receipt.address', r.applicant.address, 'applicant-address'),
    ),
  );
}

function reasonItem(code: string, detail?: string): HTMLElement {
  const known = (agencyMessages.ja as Record<string, string>)[`reason.${code}`] !== undefined;
  return h('li', { attrs: { 'data-reason': code } }, ui.txt(k(known ? `reason.${code}` : 'reason.unknown')), detail ? h('small', null, ` (${detail})`) : ` [${code}]`);
}

function rejectionView(e: ApiError): HTMLElement {
  const codes = String(e.params.reasons ?? '').split(',').filter(Boolean);
  return h(
    'div',
    { class: 'rejection', id: 'rejection', attrs: { role: 'alert', 'data-verdict': String(e.params.verdict ?? '') } },
    ui.key(h('h3'), 'rejection.title'),
    ui.key(h('p'), 'rejection.text'),
    h('ul', { class: 'reasons' }, ...codes.map((c) => reasonItem(c))),
    h('table', null, row('rejection.reference', String(e.params.reference ?? ''), 'receipt-number')),
    h('p', { class: 'code' }, e.message),
  );
}

async function staffPage(main: HTMLElement): Promise<void> {
  const list = h('div', { id: 'staff-list' });
  const refresh = ui.key(h('button', { id: 'refresh', attrs: { type: 'button' } }), 'staff.refresh');
  main.append(h('section', null, ui.key(h('h2'), 'staff.title'), ui.key(h('p'), 'staff.intro'), h('p', null, refresh)), list);
  const load = async () => {
    clear(list);
    try {
      const { applications } = await api.get<{ applications: StaffApplication[] }>('/staff/applications');
      list.append(applications.length === 0 ? ui.key(h('p'), 'staff.empty') : staffTable(applications));
    } catch (e) {
      const { text, code } = errorText(e);
      list.append(alert(text, code));
    }
    document.body.dataset.loaded = 'true';
  };
  refresh.addEventListener('click', () => void load());
  await load();
}

function staffTable(apps: StaffApplication[]): HTMLElement {
  const th = (key: Key) => ui.key(h('th', { attrs: { scope: 'col' } }), key);
  return h(
    'table',
    { id: 'applications' },
    h(
      'thead',
      null,
      h('tr', null, th('staff.number'), th('staff.receivedAt'), th('staff.procedure'), th('staff.status'), th('staff.applicant'), th('staff.verdict'), th('staff.verifiedName'), th('staff.verifiedAddress'), th('staff.dateOfBirth'), th('staff.reasons')),
    ),
    h(
      'tbody',
      null,
      ...apps.flatMap((a) => [
        h(
          'tr',
          { attrs: { 'data-receipt': a.receiptNumber, 'data-status': a.status } },
          h('td', { class: 'mono' }, a.receiptNumber),
          h('td', null, residentDate(a.receivedAt, i18n.lang)),
          h('td', null, ui.txt(k(`proc.${a.procedure}`))),
          h('td', null, ui.txt(a.status === 'accepted' ? 'staff.accepted' : 'staff.rejected')),
          h('td', null, a.applicantName),
          h('td', { class: `verdict-${a.verdict}`, attrs: { 'data-verdict': a.verdict } }, ui.txt(k(`verdict.${a.verdict}`))),
          h('td', { class: 'verified-name' }, a.verified?.name ?? ''),
          h('td', { class: 'verified-address' }, a.verified?.address ?? ''),
          h('td', { class: 'verified-birth' }, a.verified?.dateOfBirthEra ?? ''),
          h('td', null, a.reasons.length ? h('ul', null, ...a.reasons.map((r) => reasonItem(r.code, r.message))) : ''),
        ),
        h('tr', { class: 'details-row' }, h('td', { attrs: { colspan: 10 } }, staffDetails(a))),
      ]),
    ),
  );
}

function staffDetails(a: StaffApplication): HTMLElement {
  const fields = PROCEDURES[a.procedure] ?? [];
  const base = `/api/agency/staff/applications/${a.receiptNumber}`;
  return h(
    'details',
    null,
    ui.key(h('summary'), 'staff.details'),
    ui.key(h('h4'), 'staff.form'),
    h('table', null, ...fields.map((f) => row(k(`field.${f.name}`), shownValue(f, a.form[f.name])))),
    a.signer
      ? h('div', null, ui.key(h('h4'), 'staff.signer'), h('dl', { class: 'facts' }, h('dt', null, 'Subject'), h('dd', null, a.signer.subject), h('dt', null, 'Issuer'), h('dd', null, a.signer.issuer), h('dt', null, 'Serial'), h('dd', { class: 'mono' }, a.signer.serial), h('dt', null, a.signatureAlgorithm ?? ''), h('dd', null, a.signingTime ? `${ui.t('staff.signingTime')}: ${residentDate(a.signingTime, i18n.lang)}` : '')))
      : null,
    a.path.length ? h('div', null, ui.key(h('h4'), 'staff.path'), h('ol', null, ...a.path.map((p) => h('li', null, `${p.subject} — ${p.serial} — ${p.revocation}`)))) : null,
    h('p', null, ui.txt('staff.evidence'), ': ', h('a', { attrs: { href: `${base}/signature.p7s` } }, 'signature.p7s'), ' ', h('a', { attrs: { href: `${base}/certificate.cer` } }, 'certificate.cer'), ' ', h('a', { attrs: { href: `${base}/content.json` } }, 'content.json')),
  );
}

async function start(root: HTMLElement): Promise<void> {
  const path = location.pathname.replace(/\/$/, '');
  const procedure = path.startsWith('/agency/') ? path.slice('/agency/'.length) : '';
  document.title = i18n.t('app.title');
  const nav = h(
    'nav',
    { class: 'agency-nav', attrs: { 'aria-label': i18n.t('nav.label') } },
    ui.key(h('a', { attrs: { href: '/agency', 'aria-current': path === '/agency' ? 'page' : undefined } }), 'nav.home'),
    ui.key(h('a', { attrs: { href: '/agency/staff', 'aria-current': path === '/agency/staff' ? 'page' : undefined } }), 'nav.staff'),
  );
  const main = h('main', { class: 'agency-main', id: 'main' });
  clear(root);
  root.append(h('header', { class: 'agency-header' }, ui.key(h('h1'), 'app.title'), languageSwitch(ui), nav), main);
  try {
    if (procedure === 'staff') await staffPage(main);
    else if (PROCEDURES[procedure]) await procedurePage(main, procedure, PROCEDURES[procedure]);
    else home(main);
  } catch (e) {
    const { text, code } = errorText(e);
    main.append(alert(text, code));
  }
  i18n.onChange(() => (document.title = i18n.t('app.title')));
  document.body.dataset.ready = 'true';
}

void start(document.getElementById('app')!);
