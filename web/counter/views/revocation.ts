import { h } from '../../shared/dom.js';
import { clearMessages, messageRegion, showKeyed } from '../../shared/forms.js';
import { idempotentForm } from '../../shared/submit.js';
import type { Key, Terminal } from '../context.js';
import type { ResidentOverview, RevocationResult } from '../types.js';
import { applicationForm, choice, choiceGroup, definitions, failure, page, paperLink, photoIdFields, submitButton, table } from './common.js';

export const REVOCATION_REASONS = ['lost', 'stolen', 'broken', 'misuse', 'unneeded'] as const;

/**
 * The revocation application / private-key compromise report (guide §4(4)A): form, photo ID, the reason,
 * which certificates, whether the card was handed in. The server revokes and issues the numbered notice of
 * acceptance (受理通知書) in one transaction; the reason becomes a CRL reason code there.
 */
export async function revocationView(t: Terminal, [residentId]: string[]): Promise<HTMLElement> {
  const o = await t.api.get<ResidentOverview>(`/residents/${encodeURIComponent(residentId!)}`);
  const r = o.resident;
  const live = new Set(o.certificates.filter((c) => c.status === 'live').map((c) => c.kind));
  const messages = messageRegion();
  const form = applicationForm(t, r);
  const identity = photoIdFields(t);
  const reasons = choiceGroup(
    t,
    'revoke.reason',
    REVOCATION_REASONS.map((v) => choice(t, 'radio', 'reason', v, `reason.${v}`)),
  );
  const kinds = (['sign', 'auth'] as const).map((k) => choice(t, 'checkbox', 'certificates', k, k === 'sign' ? 'cert.kind.sign' : 'cert.kind.auth', live.size === 0 || live.has(k)));
  const certificates = choiceGroup(t, 'revoke.certificates', kinds);
  const takenBack = choice(t, 'checkbox', 'cardTakenBack', 'yes', 'revoke.cardTakenBack');
  const el = h(
    'form',
    { class: 'revocation', attrs: { novalidate: true } },
    t.ui.key(h('p', { class: 'hint' }), 'revoke.hint'),
    form.element,
    identity.element,
    reasons.element,
    certificates.element,
    h('fieldset', { class: 'choices' }, takenBack.element),
    submitButton(t, 'revoke.submit', 'danger'),
  );
  const result = h('div', { class: 'result' });
  idempotentForm(el, {
    collect: () => {
      const f = form.read();
      const id = identity.read();
      const reason = reasons.checked()[0];
      reasons.setError(reason ? null : 'revoke.error.reason');
      const which = certificates.checked();
      certificates.setError(which.length ? null : 'revoke.error.certificates');
      if (!f || !id || !reason || !which.length) {
        el.querySelector<HTMLElement>('[aria-invalid="true"] input, input[aria-invalid="true"], select[aria-invalid="true"]')?.focus();
        return undefined;
      }
      return { residentId: r.id, form: f, identity: id, reason, cardTakenBack: takenBack.control.checked, certificates: which };
    },
    send: (payload, key) => t.api.post<RevocationResult>('/revocations', payload, { idempotencyKey: key }),
    done: (res, replayed) => {
      el.remove();
      clearMessages(messages);
      if (replayed) showKeyed(t.ui, messages, 'info', 'common.replayed');
      result.append(
        t.ui.key(h('p', { class: 'alert success', attrs: { role: 'status', tabindex: -1 } }), 'revoke.done'),
        definitions(t, [['notice.number', h('strong', { class: 'notice-number' }, res.notice.number)]]),
        table(
          t,
          ['cert.kind', 'cert.serial', 'notice.crlReason'],
          res.revoked.map((c) => [t.ui.txt((c.kind === 'auth' ? 'cert.kind.auth' : 'cert.kind.sign') as Key), h('code', null, c.serial), `${c.reason} (${c.reasonCode})`]),
          'revoke.revoked',
        ),
        h('p', null, paperLink(t, 'notice', res.notice.number)),
      );
      result.querySelector<HTMLElement>('[role=status]')?.focus();
    },
    failed: failure(t, messages, el),
  });
  return page(t, 'revoke.title', undefined, h('p', { class: 'applicant' }, r.name), messages, el, result);
}
