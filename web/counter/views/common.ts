import { h, uid, type Child } from '../../shared/dom.js';
import type { ApiError } from '../../shared/api.js';
import { field, input, setFieldError, showError } from '../../shared/forms.js';
import type { Params } from '../../shared/i18n.js';
import { normalisePin, pinProblem, type PinName } from '../../shared/pin-rules.js';
import type { Key, Terminal } from '../context.js';
import type { DeviceStatus, Device, ResidentView } from '../types.js';

/** Pieces the counter's screens share: page frame, tables, the application form, photo ID, device, PINs. */

export function page(t: Terminal, title: Key, titleParams: Params | undefined, ...children: Child[]): HTMLElement {
  return h('section', { class: 'page' }, t.ui.key(h('h2'), title, titleParams), ...children);
}

export function subheading(t: Terminal, key: Key, params?: Params): HTMLHeadingElement {
  return t.ui.key(h('h3'), key, params);
}

export function definitions(t: Terminal, rows: [Key, Child][]): HTMLDListElement {
  const dl = h('dl', { class: 'facts' });
  for (const [k, v] of rows) dl.append(t.ui.key(h('dt'), k), h('dd', null, v));
  return dl;
}

export function table(t: Terminal, headers: Key[], rows: Child[][], caption?: Key): HTMLTableElement {
  return h(
    'table',
    null,
    caption ? t.ui.key(h('caption'), caption) : null,
    h('thead', null, h('tr', null, ...headers.map((k) => t.ui.key(h('th', { attrs: { scope: 'col' } }), k)))),
    h('tbody', null, ...rows.map((r) => h('tr', null, ...r.map((c) => h('td', null, c))))),
  );
}

export function submitButton(t: Terminal, key: Key, extra = ''): HTMLButtonElement {
  return t.ui.key(h('button', { class: `primary ${extra}`.trim(), attrs: { type: 'submit' } }), key);
}

/** A link to a printable paper; it opens in its own tab so the counter screen stays. */
export function paperLink(t: Terminal, paper: 'certificate-copy' | 'usage-guide' | 'receipt' | 'notice', number: string): HTMLAnchorElement {
  const a = h('a', { class: 'paper-link', attrs: { href: `/counter/print/${paper}?number=${encodeURIComponent(number)}`, target: '_blank', rel: 'noopener', 'data-paper': paper } });
  a.append(t.ui.txt(`paper.${paper}`), ` ${number}`);
  return a;
}

/**
 * What a failed submission shows: the server's refusal, or the login screen when the session ended. A
 * refusal that names a field (`params.field`: `address`, `form.address`, `newPin`…) is also shown beside
 * that field of `form`, which is marked invalid and focused. That message is an element of its own, kept
 * until the next answer replaces it: the form's own checks on the next submit must not move the page between
 * the two clicks of a double click (submit.ts).
 */
export function failure(t: Terminal, region: HTMLElement, form?: HTMLElement): (e: ApiError) => void {
  return (e) => {
    if (e.code === 'COUNTER_SESSION_REQUIRED') return t.sessionEnded(e);
    showError(region, e);
    if (!form) return;
    for (const old of Array.from(form.querySelectorAll<HTMLElement>('[data-server-error]'))) {
      const control = old.dataset.for ? document.getElementById(old.dataset.for) : null;
      control?.setAttribute('aria-describedby', (control.getAttribute('aria-describedby') ?? '').replace(old.id, '').trim());
      old.remove();
    }
    const named = typeof e.params.field === 'string' ? e.params.field.split('.').at(-1) : undefined;
    if (!named) return;
    const control = Array.from(form.querySelectorAll<HTMLInputElement | HTMLSelectElement>(`[name="${CSS.escape(named)}"]`)).find((c) => !c.closest('[hidden]'));
    const own = control?.dataset.errorId ? document.getElementById(control.dataset.errorId) : null;
    if (!control || !own) return;
    const message = h('p', { id: uid('server-error'), class: 'field-error', attrs: { 'data-server-error': e.code, 'data-for': control.id } }, e.message);
    own.after(message);
    control.setAttribute('aria-describedby', `${control.getAttribute('aria-describedby') ?? ''} ${message.id}`.trim());
    control.setAttribute('aria-invalid', 'true');
    control.focus();
  };
}

export function required(t: Terminal, control: HTMLInputElement | HTMLSelectElement): string | undefined {
  const v = control.value.trim();
  setFieldError(t.ui, control, v ? null : 'field.error.required');
  return v || undefined;
}

// ---- the application form (name, date of birth, address, phone) ----------------------------------------

export interface ApplicationForm {
  name: string;
  dateOfBirth: string;
  address: string;
  phone?: string;
}

/**
 * The application form as the resident filled it in, pre-filled from the register: the operator compares it
 * with the paper and corrects what differs; the server then checks it against the register
 * (COUNTER_FORM_MISMATCH names the field).
 */
export function applicationForm(t: Terminal, r: ResidentView): { element: HTMLElement; read(): ApplicationForm | undefined } {
  const name = input({ name: 'name', value: r.name, autocomplete: 'off', required: true });
  const dateOfBirth = input({ name: 'dateOfBirth', type: 'date', value: r.dateOfBirth, required: true });
  const address = input({ name: 'address', value: r.address, autocomplete: 'off', required: true });
  const phone = input({ name: 'phone', type: 'tel', autocomplete: 'off' });
  const element = h(
    'fieldset',
    { class: 'application-form' },
    t.ui.key(h('legend'), 'step.form'),
    t.ui.key(h('p', { class: 'hint' }), 'form.hint'),
    field(t.ui, { label: 'form.name', control: name }),
    field(t.ui, { label: 'form.dateOfBirth', control: dateOfBirth }),
    field(t.ui, { label: 'form.address', control: address }),
    field(t.ui, { label: 'form.phone', control: phone }),
  );
  return {
    element,
    read() {
      const values = [required(t, name), required(t, dateOfBirth), required(t, address)];
      if (values.some((v) => v === undefined)) return undefined;
      const p = phone.value.trim();
      return { name: values[0]!, dateOfBirth: values[1]!, address: values[2]!, ...(p ? { phone: p } : {}) };
    },
  };
}

// ---- photo ID -------------------------------------------------------------------------------------------

export const PHOTO_ID_TYPES = ['passport', 'driving-licence', 'resident-card', 'residence-card', 'other-photo-id'] as const;

export function photoIdFields(t: Terminal): { element: HTMLElement; read(): { type: string; number: string } | undefined } {
  const type = h('select', { attrs: { name: 'idType' } });
  for (const v of PHOTO_ID_TYPES) type.append(t.ui.key(h('option', { attrs: { value: v } }), `idtype.${v}`));
  const number = input({ name: 'idNumber', autocomplete: 'off', maxlength: 32, required: true });
  const element = h(
    'fieldset',
    { class: 'photo-id' },
    t.ui.key(h('legend'), 'step.identity'),
    t.ui.key(h('p', { class: 'hint' }), 'identity.hint'),
    field(t.ui, { label: 'identity.type', control: type }),
    field(t.ui, { label: 'identity.number', control: number, hint: 'identity.number.rule' }),
  );
  return {
    element,
    read() {
      const v = number.value.trim();
      const ok = /^[A-Za-z0-9-]{1,32}$/.test(v);
      setFieldError(t.ui, number, ok ? null : v ? 'identity.error.number' : 'field.error.required');
      return ok ? { type: type.value, number: v } : undefined;
    },
  };
}

// ---- the key-pair generation device ---------------------------------------------------------------------

/**
 * The counter's devices with the card each holds now ("is the card in?"), re-checked on demand. For a new
 * issuance (`expect: 'blank'`) a card that already holds certificates is a warning: issuing onto it
 * replaces what it holds.
 */
export function deviceChooser(t: Terminal, expect: 'blank' | 'issued' = 'issued'): { element: HTMLElement; read(): string | undefined; ready: Promise<void> } {
  const select = h('select', { attrs: { name: 'device' } });
  const status = h('p', { class: 'device-status', attrs: { 'aria-live': 'polite' } });
  const check = t.ui.key(h('button', { class: 'secondary', attrs: { type: 'button' } }), 'device.check');
  const element = h(
    'fieldset',
    { class: 'device' },
    t.ui.key(h('legend'), 'step.device'),
    t.ui.key(h('p', { class: 'hint' }), 'device.hint'),
    field(t.ui, { label: 'device.choose', control: select }),
    h('div', { class: 'device-check' }, status, check),
  );
  const showStatus = async () => {
    if (!select.value) return;
    status.replaceChildren(t.ui.txt('common.loading'));
    try {
      const d = await t.api.get<DeviceStatus>(`/devices/${encodeURIComponent(select.value)}`);
      status.dataset.cardPresent = String(d.cardPresent);
      status.classList.remove('alert', 'warning');
      delete status.dataset.warning;
      if (d.cardPresent && !d.blank && expect === 'blank') {
        status.classList.add('alert', 'warning');
        status.dataset.warning = 'card-not-blank';
        status.replaceChildren(t.ui.txt('device.card.notBlank', { cardId: d.cardId ?? '' }));
      } else if (d.cardPresent) status.replaceChildren(t.ui.txt(d.blank ? 'device.card.blank' : 'device.card.issued', { cardId: d.cardId ?? '' }));
      else if (d.problem) status.replaceChildren(t.ui.txt('device.card.problem', { code: d.problem.code }));
      else status.replaceChildren(t.ui.txt('device.card.none'));
    } catch (e) {
      status.replaceChildren(String((e as Error).message));
    }
  };
  check.addEventListener('click', () => void showStatus());
  select.addEventListener('change', () => void showStatus());
  const ready = (async () => {
    const { devices } = await t.api.get<{ devices: Device[] }>('/devices');
    for (const d of devices) select.append(h('option', { attrs: { value: d.id } }, `${d.id} — ${d.name}`));
    await showStatus();
  })();
  return {
    element,
    ready,
    read() {
      return required(t, select);
    },
  };
}

// ---- PINs -----------------------------------------------------------------------------------------------

/**
 * A new PIN entered twice, checked here by the card's rules (the server checks again, and for
 * guessability). The signing password is upper-cased as typed, so what the resident sees is what the card
 * gets.
 */
export function newPinFields(t: Terminal, pin: () => PinName, labels: { first: (p: PinName) => Key; second: (p: PinName) => Key }, name: string) {
  const first = input({ name, type: 'password', autocomplete: 'new-password', maxlength: 16 });
  const second = input({ name: `${name}Confirm`, type: 'password', autocomplete: 'new-password', maxlength: 16 });
  const firstLabel = h('label');
  const secondLabel = h('label');
  const rule = h('p', { class: 'hint', id: uid('rule') });
  const element = h('div', { class: 'pin-pair' });
  const wrap = (label: HTMLLabelElement, control: HTMLInputElement) => {
    control.id = uid('pin');
    label.htmlFor = control.id;
    const error = h('p', { class: 'field-error', id: `${control.id}-error` });
    control.dataset.errorId = error.id;
    control.setAttribute('aria-describedby', `${rule.id} ${error.id}`);
    return h('div', { class: 'field' }, label, control, error);
  };
  element.append(wrap(firstLabel, first), rule, wrap(secondLabel, second));
  const upper = (e: Event) => {
    const el = e.target as HTMLInputElement;
    if (pin() === 'sign' && el.value !== el.value.toUpperCase()) el.value = el.value.toUpperCase();
  };
  first.addEventListener('input', upper);
  second.addEventListener('input', upper);
  const relabel = () => {
    const p = pin();
    t.ui.key(firstLabel, labels.first(p));
    t.ui.key(secondLabel, labels.second(p));
    t.ui.key(rule, p === 'sign' ? 'pin.sign.rule' : 'pin.auth.rule');
    first.inputMode = second.inputMode = p === 'auth' ? 'numeric' : 'text';
    first.maxLength = second.maxLength = p === 'auth' ? 4 : 16;
  };
  relabel();
  return {
    element,
    relabel,
    read(): string | undefined {
      const p = pin();
      const problem = pinProblem(p, first.value);
      setFieldError(t.ui, first, problem === 'required' ? 'pin.error.required' : problem ? (p === 'sign' ? 'pin.error.sign' : 'pin.error.auth') : null);
      const same = normalisePin(p, first.value) === normalisePin(p, second.value);
      setFieldError(t.ui, second, problem ? null : same ? null : 'pin.error.mismatch');
      return problem || !same ? undefined : normalisePin(p, first.value);
    },
  };
}

// ---- radio buttons and check boxes ----------------------------------------------------------------------

export function choice(t: Terminal, type: 'radio' | 'checkbox', name: string, value: string, label: Key, checked = false): { element: HTMLElement; control: HTMLInputElement } {
  const control = h('input', { id: uid(name), attrs: { type, name, value, checked } });
  return { control, element: h('div', { class: 'choice' }, control, t.ui.key(h('label', { attrs: { for: control.id } }), label)) };
}

/** A group of choices under a legend, with one error line for the group. */
export function choiceGroup(t: Terminal, legend: Key, choices: { element: HTMLElement; control: HTMLInputElement }[]) {
  const error = h('p', { class: 'field-error', id: uid('group-error') });
  const element = h('fieldset', { class: 'choices' }, t.ui.key(h('legend'), legend), ...choices.map((c) => c.element), error);
  const controls = choices.map((c) => c.control);
  return {
    element,
    controls,
    checked: () => controls.filter((c) => c.checked).map((c) => c.value),
    setError(key: Key | null) {
      if (key) {
        element.setAttribute('aria-invalid', 'true');
        t.ui.key(error, key);
        controls[0]?.setAttribute('aria-describedby', error.id);
      } else {
        element.removeAttribute('aria-invalid');
        error.textContent = '';
        delete error.dataset.i18n;
      }
    },
  };
}
