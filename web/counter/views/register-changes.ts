import { h } from '../../shared/dom.js';
import { clearMessages, field, input, messageRegion, setFieldError, showKeyed } from '../../shared/forms.js';
import { idempotentForm } from '../../shared/submit.js';
import type { Key, Terminal } from '../context.js';
import type { RegisterChangeResult, ResidentOverview, ResidentView } from '../types.js';
import { choice, choiceGroup, definitions, failure, page, required, submitButton, table } from './common.js';

export const CHANGE_KINDS = ['move', 'rename', 'correction', 'death'] as const;
type ChangeKind = (typeof CHANGE_KINDS)[number];
const RENAME_REASONS = ['marriage', 'divorce', 'adoption', 'other'] as const;
const FACT_KEYS: Record<string, Key> = { name: 'fact.name', address: 'fact.address', dateOfBirth: 'fact.dateOfBirth', sex: 'fact.sex' };

/**
 * Register changes at the counter (supervisors only; the API refuses clerks and residents of another
 * municipality): a move (within the municipality or out of it), a change of name, a correction of the
 * record, a death. The CA revokes what the change invalidates; the result lists it.
 */
export async function registerChangesView(t: Terminal, [residentId]: string[], query: URLSearchParams): Promise<HTMLElement> {
  const o = await t.api.get<ResidentOverview>(`/residents/${encodeURIComponent(residentId!)}`);
  const r = o.resident;
  const messages = messageRegion();
  const initial = CHANGE_KINDS.find((k) => k === query.get('kind')) ?? 'move';
  const kinds = choiceGroup(
    t,
    'changes.kind',
    CHANGE_KINDS.map((k) => choice(t, 'radio', 'kind', k, `changes.${k}`, k === initial)),
  );
  const kind = () => (kinds.checked()[0] ?? 'move') as ChangeKind;

  // move
  const address = input({ name: 'address', autocomplete: 'off', maxlength: 200 });
  const municipality = input({ name: 'municipality', inputmode: 'numeric', maxlength: 5, autocomplete: 'off' });
  const move = h('fieldset', { class: 'change-move' }, t.ui.key(h('legend'), 'changes.move'), field(t.ui, { label: 'changes.address', control: address }), field(t.ui, { label: 'changes.municipality', control: municipality, hint: 'changes.municipality.hint' }));
  // rename
  const name = input({ name: 'name', autocomplete: 'off', maxlength: 100 });
  const renameReason = h('select', { attrs: { name: 'reason' } });
  for (const v of RENAME_REASONS) renameReason.append(t.ui.key(h('option', { attrs: { value: v } }), `renameReason.${v}`));
  const rename = h('fieldset', { class: 'change-rename' }, t.ui.key(h('legend'), 'changes.rename'), field(t.ui, { label: 'changes.name', control: name }), field(t.ui, { label: 'changes.renameReason', control: renameReason }));
  // correction
  const cName = input({ name: 'name', autocomplete: 'off', maxlength: 100 });
  const cAddress = input({ name: 'address', autocomplete: 'off', maxlength: 200 });
  const cBirth = input({ name: 'dateOfBirth', type: 'date' });
  const cSex = h('select', { attrs: { name: 'sex' } }, t.ui.key(h('option', { attrs: { value: '' } }), 'changes.sex.unchanged'), t.ui.key(h('option', { attrs: { value: '1' } }), 'sex.1'), t.ui.key(h('option', { attrs: { value: '2' } }), 'sex.2'));
  const cReason = input({ name: 'reason', autocomplete: 'off', maxlength: 200 });
  const correction = h(
    'fieldset',
    { class: 'change-correction' },
    t.ui.key(h('legend'), 'changes.correction'),
    t.ui.key(h('p', { class: 'hint' }), 'changes.correction.hint'),
    field(t.ui, { label: 'fact.name', control: cName }),
    field(t.ui, { label: 'fact.address', control: cAddress }),
    field(t.ui, { label: 'fact.dateOfBirth', control: cBirth }),
    field(t.ui, { label: 'changes.sex', control: cSex }),
    field(t.ui, { label: 'changes.reason', control: cReason }),
  );
  const effectiveOn = input({ name: 'effectiveOn', type: 'date' });
  const effective = field(t.ui, { label: 'changes.effectiveOn', control: effectiveOn });
  const parts: Record<ChangeKind, HTMLElement | null> = { move, rename, correction, death: null };
  const onKind = () => {
    for (const [k, el] of Object.entries(parts)) if (el) el.hidden = k !== kind();
    effective.hidden = kind() === 'correction';
  };
  for (const c of kinds.controls) c.addEventListener('change', onKind);
  onKind();

  const el = h('form', { class: 'register-change', attrs: { novalidate: true } }, t.ui.key(h('p', { class: 'hint' }), 'changes.hint'), kinds.element, move, rename, correction, effective, submitButton(t, 'changes.submit', 'danger'));
  const result = h('div', { class: 'result' });
  idempotentForm(el, {
    collect: () => {
      const k = kind();
      const on: Record<string, string> = effectiveOn.value ? { effectiveOn: effectiveOn.value } : {};
      let body: Record<string, string> | undefined;
      if (k === 'move') {
        const a = required(t, address);
        const m = municipality.value.trim();
        setFieldError(t.ui, municipality, m === '' || /^\d{5}$/.test(m) ? null : 'changes.municipality.hint');
        if (a && (m === '' || /^\d{5}$/.test(m))) body = { address: a, ...(m ? { municipality: m } : {}), ...on };
      } else if (k === 'rename') {
        const n = required(t, name);
        if (n) body = { name: n, reason: renameReason.value, ...on };
      } else if (k === 'correction') {
        const reason = required(t, cReason);
        const facts = { name: cName.value.trim(), address: cAddress.value.trim(), dateOfBirth: cBirth.value, sex: cSex.value };
        const given = Object.fromEntries(Object.entries(facts).filter(([, v]) => v !== ''));
        if (Object.keys(given).length === 0) showKeyed(t.ui, messages, 'error', 'changes.error.nothing');
        else clearMessages(messages);
        if (reason && Object.keys(given).length) body = { ...given, reason };
      } else body = on;
      if (!body) {
        el.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
        return undefined;
      }
      return { kind: k, body };
    },
    send: (p, key) => t.api.post<RegisterChangeResult>(`/residents/${encodeURIComponent(r.id)}/${p.kind}`, p.body, { idempotencyKey: key }),
    done: (res, replayed) => {
      el.remove();
      clearMessages(messages);
      if (replayed) showKeyed(t.ui, messages, 'info', 'common.replayed');
      result.append(
        t.ui.key(h('p', { class: 'alert success', attrs: { role: 'status', tabindex: -1 } }), 'changes.done', { version: res.event.version, effectiveOn: res.event.effectiveOn }),
        definitions(t, [
          ['resident.name', res.resident.name],
          ['resident.address', res.resident.address],
          ['resident.status', t.ui.txt(`status.${res.resident.status}`)],
          ['changes.changedFacts', res.event.changedFacts.length ? h('span', null, ...res.event.changedFacts.flatMap((f, i) => [i ? '、' : '', FACT_KEYS[f] ? t.ui.txt(FACT_KEYS[f]) : f])) : t.ui.txt('changes.noneChanged')],
        ]),
        res.revoked.length
          ? table(
              t,
              ['cert.kind', 'cert.serial', 'notice.crlReason'],
              res.revoked.map((c) => [t.ui.txt(c.kind === 'auth' ? 'cert.kind.auth' : 'cert.kind.sign'), h('code', null, c.serial), c.reason]),
              'changes.revoked',
            )
          : t.ui.key(h('p', { class: 'empty' }), 'changes.noneRevoked'),
        res.resident.municipality !== t.session.operator?.municipality
          ? t.ui.key(h('p', { class: 'alert info' }), 'changes.movedAway', { municipality: res.resident.municipalityName })
          : h('p', null, h('a', { attrs: { href: `#/residents/${encodeURIComponent(res.resident.id)}` } }, res.resident.name)),
      );
      result.querySelector<HTMLElement>('[role=status]')?.focus();
    },
    failed: failure(t, messages, el),
  });
  return page(t, 'changes.title', undefined, h('p', { class: 'applicant' }, `${r.name}（${r.recordCode}）`), messages, el, result);
}

/** A new resident of the supervisor's municipality (転入, birth…): POST /residents. */
export async function moveInView(t: Terminal): Promise<HTMLElement> {
  const op = t.session.operator!;
  const messages = messageRegion();
  const name = input({ name: 'name', autocomplete: 'off', maxlength: 100, required: true });
  const dateOfBirth = input({ name: 'dateOfBirth', type: 'date', required: true });
  const sex = h('select', { attrs: { name: 'sex' } }, t.ui.key(h('option', { attrs: { value: '1' } }), 'sex.1'), t.ui.key(h('option', { attrs: { value: '2' } }), 'sex.2'));
  const address = input({ name: 'address', autocomplete: 'off', maxlength: 200, required: true });
  const recordCode = input({ name: 'recordCode', inputmode: 'numeric', maxlength: 11, autocomplete: 'off' });
  const el = h(
    'form',
    { class: 'move-in', attrs: { novalidate: true } },
    t.ui.key(h('p', { class: 'hint' }), 'moveIn.hint', { municipality: op.municipalityName }),
    field(t.ui, { label: 'moveIn.name', control: name }),
    field(t.ui, { label: 'moveIn.dateOfBirth', control: dateOfBirth }),
    field(t.ui, { label: 'resident.sex', control: sex }),
    field(t.ui, { label: 'moveIn.address', control: address }),
    field(t.ui, { label: 'moveIn.recordCode', control: recordCode }),
    submitButton(t, 'moveIn.submit'),
  );
  const result = h('div', { class: 'result' });
  idempotentForm(el, {
    collect: () => {
      const values = [required(t, name), required(t, dateOfBirth), required(t, address)];
      if (values.some((v) => v === undefined)) {
        el.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
        return undefined;
      }
      const code = recordCode.value.trim();
      return { name: values[0]!, dateOfBirth: values[1]!, address: values[2]!, sex: sex.value, municipality: op.municipality, ...(code ? { recordCode: code } : {}) };
    },
    send: (body, key) => t.api.post<{ resident: ResidentView }>('/residents', body, { idempotencyKey: key }),
    done: ({ resident }, replayed) => {
      el.remove();
      clearMessages(messages);
      if (replayed) showKeyed(t.ui, messages, 'info', 'common.replayed');
      result.append(
        t.ui.key(h('p', { class: 'alert success', attrs: { role: 'status', tabindex: -1 } }), 'moveIn.done'),
        definitions(t, [
          ['resident.name', h('a', { attrs: { href: `#/residents/${encodeURIComponent(resident.id)}`, 'data-resident': resident.id } }, resident.name)],
          ['resident.recordCode', h('strong', { class: 'record-code' }, resident.recordCode)],
          ['resident.dateOfBirth', resident.dateOfBirthJa],
          ['resident.address', resident.address],
        ]),
      );
      result.querySelector<HTMLElement>('[role=status]')?.focus();
    },
    failed: failure(t, messages, el),
  });
  return page(t, 'moveIn.title', undefined, messages, el, result);
}
