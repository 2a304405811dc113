import type { ApiError } from '../../shared/api.js';
import { h } from '../../shared/dom.js';
import { field, input, messageRegion, showError, showKeyed } from '../../shared/forms.js';
import type { Terminal } from '../context.js';
import type { LoginAnswer } from '../types.js';
import { page, required, submitButton } from './common.js';

/**
 * Operator login: name and password, a cookie session (HttpOnly, SameSite=Strict) plus the CSRF token the
 * API returns for writes. The language stays the one the terminal shows (the browser's choice or its own
 * language, web/shared/i18n.ts), which is then saved as the operator's setting.
 */
export async function loginView(t: Terminal, _params: string[], query: URLSearchParams, refusal?: ApiError): Promise<HTMLElement> {
  const name = input({ name: 'name', autocomplete: 'username', required: true, maxlength: 40 });
  const password = input({ name: 'password', type: 'password', autocomplete: 'current-password', required: true, maxlength: 200 });
  const messages = messageRegion();
  const button = submitButton(t, 'login.submit');
  const form = h('form', { class: 'login', attrs: { novalidate: true } }, field(t.ui, { label: 'login.name', control: name }), field(t.ui, { label: 'login.password', control: password }), button);
  if (refusal) showError(messages, refusal);
  else if (query.get('loggedOut')) showKeyed(t.ui, messages, 'info', 'login.loggedOut');
  let busy = false;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (busy) return;
    const n = required(t, name);
    const p = required(t, password);
    if (!n || !p) return;
    busy = true;
    button.disabled = true;
    void (async () => {
      try {
        const { data } = await t.api.post<LoginAnswer>('/login', { name: n, password: p, session: 'cookie' });
        t.session.operator = data.operator;
        t.session.csrfToken = data.csrfToken;
        // The terminal keeps the language it shows (chosen on this browser, or the browser's own): the
        // operator's setting follows it, so the API's messages without ?lang= are in it too.
        if (t.ui.i18n.lang !== data.operator.language) {
          data.operator.language = t.ui.i18n.lang;
          await t.api.post('/me/language', { language: t.ui.i18n.lang });
        }
        t.sessionChanged();
        t.go('#/residents');
      } catch (e) {
        showError(messages, e as ApiError);
        password.value = '';
        password.focus();
      } finally {
        busy = false;
        button.disabled = false;
      }
    })();
  });
  return page(t, 'login.title', undefined, messages, form);
}
