import type { ApiError } from '../../shared/api.js';
import { eraDate } from '../../shared/dates.js';
import { focusHeading, h } from '../../shared/dom.js';
import { clearMessages, field, input, messageRegion, setFieldError, showError, showKeyed } from '../../shared/forms.js';
import { idempotentForm } from '../../shared/submit.js';
import type { Key, Terminal } from '../context.js';
import type { ApplicationView, IssuanceResult, IssuedCertificate, ResidentOverview } from '../types.js';
import { applicationForm, definitions, deviceChooser, failure, newPinFields, page, paperLink, photoIdFields, submitButton, subheading, table } from './common.js';

/**
 * The issuance wizard (guide §4(3)): application form → photo ID → fee → key-pair generation device →
 * hand-over. The workflow lives on the server (each step a separate idempotent submission), so the wizard
 * can be left and resumed at `#/issuances/<number>`; it always shows the step the server says.
 */
const STEPS = ['form', 'identity', 'fee', 'device', 'done'] as const;
type WizardStep = (typeof STEPS)[number];

function stepIndicator(t: Terminal, current: WizardStep): HTMLElement {
  const at = STEPS.indexOf(current);
  const nav = h(
    'nav',
    { class: 'steps' },
    h(
      'ol',
      null,
      ...STEPS.map((s, i) => {
        const li = h('li', { class: i < at ? 'past' : i === at ? 'current' : 'future', attrs: { 'data-step': s } }, t.ui.txt(`step.${s}`));
        if (i === at) {
          li.setAttribute('aria-current', 'step');
          li.append(h('span', { class: 'visually-hidden' }, t.ui.txt('step.current')));
        }
        return li;
      }),
    ),
  );
  return t.ui.attr(nav, 'aria-label', 'issue.steps');
}

/** Step 1: the application form for a resident; creates the application and moves to its own address. */
export async function newIssuanceView(t: Terminal, [residentId]: string[]): Promise<HTMLElement> {
  const { resident } = await t.api.get<ResidentOverview>(`/residents/${encodeURIComponent(residentId!)}`);
  const messages = messageRegion();
  const form = applicationForm(t, resident);
  const el = h('form', { class: 'wizard-step', attrs: { novalidate: true, 'data-step': 'form' } }, form.element, submitButton(t, 'form.submit'));
  idempotentForm(el, {
    collect: () => form.read(),
    send: (payload, key) => t.api.post<ApplicationView>('/issuances', { residentId: resident.id, form: payload }, { idempotencyKey: key }),
    done: (app) => t.go(`#/issuances/${encodeURIComponent(app.number)}`),
    failed: failure(t, messages, el),
  });
  return page(t, 'issue.title', undefined, t.ui.key(h('p', { class: 'applicant' }), 'issue.for', { name: resident.name }), stepIndicator(t, 'form'), messages, el);
}

/** Steps 2–5 of an application already opened. */
export async function issuanceView(t: Terminal, [number]: string[]): Promise<HTMLElement> {
  let app = await t.api.get<ApplicationView>(`/issuances/${encodeURIComponent(number!)}`);
  const { resident } = await t.api.get<ResidentOverview>(`/residents/${encodeURIComponent(app.residentId)}`);
  const indicator = h('div');
  const messages = messageRegion();
  const panel = h('div', { class: 'wizard-panel' });
  const path = `/issuances/${encodeURIComponent(app.number)}`;

  const show = (next: ApplicationView, note?: { replayed?: boolean; superseded?: number }) => {
    app = next;
    const step: WizardStep = app.status === 'completed' ? 'done' : app.step === 'done' ? 'done' : app.step;
    indicator.replaceChildren(stepIndicator(t, step));
    clearMessages(messages);
    if (note?.replayed) showKeyed(t.ui, messages, 'info', 'common.replayed');
    panel.replaceChildren(
      app.status === 'cancelled' ? t.ui.key(h('p', { class: 'alert info', attrs: { role: 'status' } }), 'issue.cancelled') : app.status === 'completed' ? handover(t, app, note?.superseded) : stepForm(step),
    );
    if (app.status === 'open') panel.append(cancelForm());
    focusHeading(panel);
  };

  /** Each step is a form of its own with its own idempotency key. */
  const stepForm = (step: WizardStep): HTMLElement => {
    if (step === 'identity') {
      const id = photoIdFields(t);
      const f = stepShell('identity', id.element, submitButton(t, 'identity.submit'));
      submit(f, () => id.read(), (payload, key) => t.api.post<ApplicationView>(`${path}/identity`, payload, { idempotencyKey: key }), (a, replayed) => show(a, { replayed }));
      return f;
    }
    if (step === 'fee') {
      const amount = input({ name: 'amount', type: 'number', inputmode: 'numeric', min: 0, step: 1, value: 500 });
      const f = stepShell('fee', t.ui.key(h('p', { class: 'fee' }), 'fee.text'), field(t.ui, { label: 'fee.amount', control: amount }), submitButton(t, 'fee.submit'));
      submit(
        f,
        () => {
          const n = Number(amount.value);
          const ok = amount.value.trim() !== '' && Number.isInteger(n) && n >= 0;
          setFieldError(t.ui, amount, ok ? null : 'fee.error.amount');
          return ok ? { amount: n } : undefined;
        },
        (payload, key) => t.api.post<ApplicationView>(`${path}/fee`, payload, { idempotencyKey: key }),
        (a, replayed) => show(a, { replayed }),
      );
      return f;
    }
    // the key-pair generation device: the resident sets both secrets, the card makes both key pairs
    const device = deviceChooser(t, 'blank');
    const sign = newPinFields(t, () => 'sign', { first: () => 'pin.sign', second: () => 'pin.sign.confirm' }, 'signPin');
    const auth = newPinFields(t, () => 'auth', { first: () => 'pin.auth', second: () => 'pin.auth.confirm' }, 'authPin');
    const secrets = h('fieldset', { class: 'secrets' }, t.ui.key(h('legend'), 'device.secrets'), t.ui.key(h('p', { class: 'hint' }), 'device.resident'), sign.element, auth.element, t.ui.key(h('p', { class: 'hint' }), 'pin.guessable'));
    const f = stepShell('device', device.element, secrets, submitButton(t, 'device.submit'));
    device.ready.catch((e: ApiError) => showError(messages, e));
    submit(
      f,
      () => {
        const d = device.read();
        const s = sign.read();
        const a = auth.read();
        return d && s && a ? { deviceId: d, signPin: s, authPin: a } : undefined;
      },
      (payload, key) => t.api.post<IssuanceResult>(`${path}/device`, payload, { idempotencyKey: key }),
      (r, replayed) => show(r.application, { replayed, superseded: r.superseded.length }),
    );
    return f;
  };

  const stepShell = (step: WizardStep, ...children: (Node | null)[]) =>
    h('form', { class: 'wizard-step', attrs: { novalidate: true, 'data-step': step } }, t.ui.key(h('h3'), `step.${step}`), ...children);

  function submit<P, R>(f: HTMLFormElement, collect: () => P | undefined, send: (p: P, key: string) => Promise<{ data: R; replayed: boolean }>, done: (r: R, replayed: boolean) => void) {
    idempotentForm(f, {
      collect: () => {
        const p = collect();
        if (p === undefined) f.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
        return p;
      },
      send,
      done,
      failed: failure(t, messages, f),
    });
  }

  const cancelForm = (): HTMLElement => {
    const f = h('form', { class: 'cancel' }, t.ui.key(h('button', { class: 'danger', attrs: { type: 'submit' } }), 'issue.cancel'));
    submit(f, () => ({}), (_p, key) => t.api.post<ApplicationView>(`${path}/cancel`, undefined, { idempotencyKey: key }), (a, replayed) => show(a, { replayed }));
    return f;
  };

  const root = page(t, 'issue.title', undefined, t.ui.key(h('p', { class: 'applicant' }), 'issue.for', { name: resident.name }), h('p', { class: 'application-number' }, t.ui.txt('app.number'), ` ${app.number}`), indicator, messages, panel);
  show(app);
  return root;
}

/** Step 5: what the resident takes home. */
function handover(t: Terminal, app: ApplicationView, superseded?: number): HTMLElement {
  const result = (app.result ?? {}) as { receipt?: string; cardId?: string; certificates?: { sign: IssuedCertificate; auth: IssuedCertificate } };
  const certs = result.certificates ? [result.certificates.sign, result.certificates.auth] : [];
  const kindKey = (k: string): Key => (k === 'auth' ? 'cert.kind.auth' : 'cert.kind.sign');
  return h(
    'div',
    { class: 'handover', attrs: { 'data-step': 'done' } },
    t.ui.key(h('h3'), 'done.title'),
    t.ui.key(h('p', { class: 'alert success', attrs: { role: 'status' } }), 'done.text'),
    superseded ? t.ui.key(h('p'), 'done.superseded', { count: superseded }) : null,
    definitions(t, [
      ['done.receipt', h('strong', { class: 'receipt-number' }, result.receipt ?? '')],
      ['done.card', result.cardId ?? ''],
    ]),
    table(
      t,
      ['cert.kind', 'cert.serial', 'cert.validity'],
      certs.map((c) => [t.ui.txt(kindKey(c.kind)), h('code', null, c.serial), t.ui.txt('validity.range', { from: eraDate(c.notBefore), to: eraDate(c.notAfter) })]),
    ),
    subheading(t, 'papers.title'),
    h(
      'ul',
      { class: 'papers' },
      h('li', null, paperLink(t, 'certificate-copy', app.number)),
      h('li', null, paperLink(t, 'usage-guide', app.number)),
      result.receipt ? h('li', null, paperLink(t, 'receipt', result.receipt)) : null,
    ),
  );
}
