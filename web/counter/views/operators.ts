import { eraDate, timeOfDay } from '../../shared/dates.js';
import { h } from '../../shared/dom.js';
import { clearMessages, field, input, messageRegion, setFieldError, showKeyed } from '../../shared/forms.js';
import { idempotentForm } from '../../shared/submit.js';
import type { Terminal } from '../context.js';
import type { OperatorView } from '../types.js';
import { failure, page, submitButton, subheading, table } from './common.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{1,39}$/;
const passwordOk = (p: string) => Array.from(p).length >= 10 && !/^\d+$/.test(p) && !/^[A-Za-z]+$/.test(p);

/**
 * The supervisor's management of their municipality's counter staff (the API lists and changes no one
 * else's): add an operator; lock an account until it is unlocked, or release a lock-out; make a clerk a
 * supervisor or back; set a new password for one who forgot theirs. Each action is one idempotent form.
 */
export async function operatorsView(t: Terminal, _params: string[], query: URLSearchParams): Promise<HTMLElement> {
  const me = t.session.operator!;
  const { operators } = await t.api.get<{ operators: OperatorView[] }>('/operators');
  const messages = messageRegion();
  const done = query.get('done');
  const who = query.get('name') ?? '';
  if (done && ['add', 'lock', 'unlock', 'role', 'password'].includes(done)) {
    const role = operators.find((o) => o.name === who)?.role ?? 'clerk';
    showKeyed(t.ui, messages, 'success', `operators.done.${done}` as 'operators.done.add', { name: who, role: t.ui.t(`role.${role}`) });
  }
  /** After an action: the list again, with what was done (a fresh load also shows a lock-out that ended). */
  const reload = (action: string, name: string) => t.go(`#/operators?done=${action}&name=${encodeURIComponent(name)}&at=${Date.now()}`);

  const action = (o: OperatorView, label: 'operators.lock' | 'operators.unlock' | 'operators.makeSupervisor' | 'operators.makeClerk', path: string, body: unknown, done: string) => {
    const f = h('form', { class: 'inline', attrs: { 'data-operator-action': `${done}:${o.name}` } }, t.ui.key(h('button', { class: label === 'operators.lock' ? 'danger' : 'secondary', attrs: { type: 'submit' } }), label));
    idempotentForm(f, {
      collect: () => body,
      send: (b, key) => t.api.post<{ operator: OperatorView }>(`/operators/${encodeURIComponent(o.name)}/${path}`, b, { idempotencyKey: key }),
      done: () => reload(done, o.name),
      failed: failure(t, messages),
    });
    return f;
  };

  const passwordForm = (o: OperatorView) => {
    const password = input({ name: 'password', type: 'password', autocomplete: 'new-password', maxlength: 200 });
    const f = h(
      'form',
      { class: 'password-reset', attrs: { novalidate: true, 'data-operator-action': `password:${o.name}` } },
      field(t.ui, { label: 'operators.newPassword', control: password, hint: 'operators.password.hint' }),
      submitButton(t, 'operators.password.submit'),
    );
    // the label names the operator: keyed with its parameter, so it follows the language switch
    t.ui.key(f.querySelector('label')!, 'operators.newPassword', { name: o.name });
    idempotentForm(f, {
      collect: () => {
        const ok = passwordOk(password.value);
        setFieldError(t.ui, password, password.value ? (ok ? null : 'operators.error.password') : 'field.error.required');
        if (!ok) password.focus();
        return ok ? { password: password.value } : undefined;
      },
      send: (b, key) => t.api.post<{ operator: OperatorView }>(`/operators/${encodeURIComponent(o.name)}/password`, b, { idempotencyKey: key }),
      done: () => reload('password', o.name),
      failed: failure(t, messages, f),
    });
    return h('details', { class: 'password' }, t.ui.key(h('summary'), 'operators.password'), f);
  };

  const state = (o: OperatorView) =>
    o.suspended
      ? h('span', { class: 'status-revoked' }, t.ui.txt('operators.state.suspended'))
      : o.locked
        ? h('span', { class: 'status-revoked' }, t.ui.txt('operators.state.lockedOut', { until: `${eraDate(o.lockedUntil!)} ${timeOfDay(o.lockedUntil!)}` }))
        : h('span', { class: 'status-live' }, t.ui.txt('operators.state.active'));

  const rows = operators.map((o) => {
    const self = o.id === me.id;
    const actions = h('div', { class: 'operator-actions' });
    if (o.suspended || o.locked) actions.append(action(o, 'operators.unlock', 'unlock', {}, 'unlock'));
    else if (!self) actions.append(action(o, 'operators.lock', 'lock', {}, 'lock'));
    if (!self) actions.append(o.role === 'clerk' ? action(o, 'operators.makeSupervisor', 'role', { role: 'supervisor' }, 'role') : action(o, 'operators.makeClerk', 'role', { role: 'clerk' }, 'role'));
    actions.append(passwordForm(o));
    return [h('span', { attrs: { 'data-operator-name': o.name } }, o.name, self ? t.ui.txt('operators.you') : ''), t.ui.txt(`role.${o.role}`), state(o), actions];
  });

  // adding an operator
  const name = input({ name: 'name', autocomplete: 'off', maxlength: 40 });
  const role = h('select', { attrs: { name: 'role' } }, t.ui.key(h('option', { attrs: { value: 'clerk' } }), 'role.clerk'), t.ui.key(h('option', { attrs: { value: 'supervisor' } }), 'role.supervisor'));
  const password = input({ name: 'password', type: 'password', autocomplete: 'new-password', maxlength: 200 });
  const language = h('select', { attrs: { name: 'language' } });
  for (const l of ['ja', 'en', 'ko'] as const) language.append(t.ui.key(h('option', { attrs: { value: l, lang: l } }), `lang.${l}`));
  language.value = t.ui.i18n.lang;
  const add = h(
    'form',
    { class: 'add-operator', attrs: { novalidate: true } },
    field(t.ui, { label: 'operators.add.name', control: name }),
    field(t.ui, { label: 'operators.add.role', control: role }),
    field(t.ui, { label: 'operators.add.password', control: password, hint: 'operators.password.hint' }),
    field(t.ui, { label: 'operators.add.language', control: language }),
    submitButton(t, 'operators.add.submit'),
  );
  idempotentForm(add, {
    collect: () => {
      const n = name.value.trim();
      setFieldError(t.ui, name, n ? (NAME.test(n) ? null : 'operators.error.name') : 'field.error.required');
      const ok = passwordOk(password.value);
      setFieldError(t.ui, password, password.value ? (ok ? null : 'operators.error.password') : 'field.error.required');
      if (!NAME.test(n) || !ok) {
        add.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
        return undefined;
      }
      clearMessages(messages);
      return { name: n, role: role.value, password: password.value, language: language.value };
    },
    send: (b, key) => t.api.post<{ operator: OperatorView }>('/operators', b, { idempotencyKey: key }),
    done: (r) => reload('add', r.operator.name),
    failed: failure(t, messages, add),
  });

  return page(
    t,
    'operators.title',
    undefined,
    t.ui.key(h('p', { class: 'hint' }), 'operators.hint', { municipality: t.ui.i18n.lang === 'ja' ? me.municipalityName : me.municipalityNameEn }),
    messages,
    table(t, ['operators.name', 'operators.role', 'operators.state', 'operators.actions'], rows, 'operators.list'),
    subheading(t, 'operators.add'),
    add,
  );
}
