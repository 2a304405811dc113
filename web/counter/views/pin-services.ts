import { h } from '../../shared/dom.js';
import { clearMessages, field, input, messageRegion, setFieldError, showKeyed } from '../../shared/forms.js';
import type { PinName } from '../../shared/pin-rules.js';
import { idempotentForm } from '../../shared/submit.js';
import type { Terminal } from '../context.js';
import type { PinServiceResult, ResidentOverview } from '../types.js';
import { applicationForm, choice, choiceGroup, definitions, deviceChooser, failure, newPinFields, page, paperLink, photoIdFields, submitButton } from './common.js';

export const PIN_SERVICES = ['pin-change', 'pin-reset', 'pin-unlock'] as const;
type PinService = (typeof PIN_SERVICES)[number];
const ENDPOINT: Record<PinService, string> = { 'pin-change': '/pin-changes', 'pin-reset': '/pin-resets', 'pin-unlock': '/pin-unlocks' };

/**
 * PIN services at the key-pair generation device (guide §4(6), (7)), each an application with photo ID on
 * the resident's own card: change (the current PIN, then a new one), initialisation of a forgotten PIN, and
 * lock release after too many wrong entries (with a new PIN). The resident types the PINs.
 */
export async function pinServicesView(t: Terminal, [residentId]: string[], query: URLSearchParams): Promise<HTMLElement> {
  const o = await t.api.get<ResidentOverview>(`/residents/${encodeURIComponent(residentId!)}`);
  const r = o.resident;
  const messages = messageRegion();
  const initial = PIN_SERVICES.find((s) => s === query.get('service')) ?? 'pin-change';
  const services = choiceGroup(
    t,
    'pins.service',
    PIN_SERVICES.map((s) => choice(t, 'radio', 'service', s, `service.${s}`, s === initial)),
  );
  const pins = choiceGroup(t, 'pins.pin', [choice(t, 'radio', 'pin', 'sign', 'pin.sign', true), choice(t, 'radio', 'pin', 'auth', 'pin.auth')]);
  const service = () => (services.checked()[0] ?? 'pin-change') as PinService;
  const pin = () => (pins.checked()[0] ?? 'sign') as PinName;

  const form = applicationForm(t, r);
  const identity = photoIdFields(t);
  const device = deviceChooser(t);
  const current = input({ name: 'currentPin', type: 'password', autocomplete: 'current-password', maxlength: 16 });
  const currentField = field(t.ui, { label: 'pins.current', control: current });
  // the user-authentication PIN is a 4-digit 暗証番号, the signing one a パスワード: each is called what it is
  const fresh = newPinFields(t, pin, { first: (p) => (p === 'auth' ? 'pins.new.auth' : 'pins.new'), second: (p) => (p === 'auth' ? 'pins.newConfirm.auth' : 'pins.newConfirm') }, 'newPin');
  const onChoice = () => {
    currentField.hidden = service() !== 'pin-change';
    t.ui.key(currentField.querySelector('label')!, pin() === 'auth' ? 'pins.current.auth' : 'pins.current');
    current.inputMode = pin() === 'auth' ? 'numeric' : 'text';
    current.maxLength = pin() === 'auth' ? 4 : 16;
    fresh.relabel();
  };
  for (const c of [...services.controls, ...pins.controls]) c.addEventListener('change', onChoice);
  onChoice();

  const secrets = h('fieldset', { class: 'secrets' }, t.ui.key(h('legend'), 'device.secrets'), currentField, fresh.element, t.ui.key(h('p', { class: 'hint' }), 'pin.guessable'));
  const el = h('form', { class: 'pin-services', attrs: { novalidate: true } }, services.element, pins.element, form.element, identity.element, device.element, secrets, submitButton(t, 'pins.submit'));
  device.ready.catch(failure(t, messages));
  const result = h('div', { class: 'result' });
  idempotentForm(el, {
    collect: () => {
      const s = service();
      const f = form.read();
      const id = identity.read();
      const d = device.read();
      let cur: string | undefined;
      if (s === 'pin-change') {
        cur = current.value;
        setFieldError(t.ui, current, cur ? null : pin() === 'auth' ? 'pin.error.current.auth' : 'pin.error.current');
      }
      const newPin = fresh.read();
      if (!f || !id || !d || !newPin || (s === 'pin-change' && !cur)) {
        el.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
        return undefined;
      }
      return { service: s, body: { residentId: r.id, form: f, identity: id, pin: pin(), deviceId: d, newPin, ...(s === 'pin-change' ? { currentPin: pin() === 'sign' ? cur!.toUpperCase() : cur! } : {}) } };
    },
    send: (p, key) => t.api.post<PinServiceResult>(ENDPOINT[p.service], p.body, { idempotencyKey: key }),
    done: (res, replayed) => {
      el.remove();
      clearMessages(messages);
      if (replayed) showKeyed(t.ui, messages, 'info', 'common.replayed');
      result.append(
        t.ui.key(h('p', { class: 'alert success', attrs: { role: 'status', tabindex: -1 } }), 'pins.done'),
        definitions(t, [
          ['app.kind', t.ui.txt(`app.kind.${res.application.kind}`)],
          ['pins.pin', t.ui.txt(res.pin === 'auth' ? 'pin.auth' : 'pin.sign')],
          ['notice.number', h('strong', { class: 'notice-number' }, res.notice.number)],
          ['cert.status', t.ui.txt('pins.status', { triesLeft: res.status.triesLeft, maxTries: res.status.maxTries })],
        ]),
        h('p', null, paperLink(t, 'notice', res.notice.number)),
      );
      result.querySelector<HTMLElement>('[role=status]')?.focus();
    },
    failed: (e) => {
      // A wrong current PIN spends a try on the card: clear it so the resident types it again.
      current.value = '';
      failure(t, messages, el)(e);
    },
  });
  return page(t, 'pins.title', undefined, h('p', { class: 'applicant' }, r.name), messages, el, result);
}
