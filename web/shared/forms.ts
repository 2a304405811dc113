import type { ApiError } from './api.js';
import { clear, h, uid, type Ui } from './dom.js';
import type { Params } from './i18n.js';

/**
 * Accessible form pieces: every input has a <label>, its hint and its error are linked with
 * aria-describedby, an invalid input says so (aria-invalid), and messages about the whole form go to a
 * region screen readers announce.
 */
export type Control = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

export interface FieldOptions<K extends string> {
  label: K;
  control: Control;
  hint?: K;
  hintParams?: Params;
}

export function field<K extends string>(ui: Ui<K>, o: FieldOptions<K>): HTMLDivElement {
  const id = o.control.id || (o.control.id = uid('f'));
  const errorId = `${id}-error`;
  const described = [errorId];
  const hint = o.hint ? ui.key(h('p', { id: `${id}-hint`, class: 'hint' }), o.hint, o.hintParams) : null;
  if (hint) described.unshift(hint.id);
  o.control.setAttribute('aria-describedby', described.join(' '));
  o.control.dataset.errorId = errorId;
  return h('div', { class: 'field' }, ui.key(h('label', { attrs: { for: id } }), o.label), hint, o.control, h('p', { id: errorId, class: 'field-error' }));
}

/** Marks a control invalid with a translated message, or clears it. */
export function setFieldError<K extends string>(ui: Ui<K>, control: Control, key: K | null, params?: Params): void {
  const el = control.dataset.errorId ? document.getElementById(control.dataset.errorId) : null;
  if (key === null) {
    control.removeAttribute('aria-invalid');
    if (el) {
      clear(el);
      delete el.dataset.i18n;
    }
    return;
  }
  control.setAttribute('aria-invalid', 'true');
  if (el) ui.key(el, key, params);
}

export function input(attrs: Record<string, string | number | boolean | undefined>): HTMLInputElement {
  return h('input', { attrs: { type: 'text', ...attrs } });
}

/** The place for messages about a whole form or page. */
export function messageRegion(): HTMLDivElement {
  return h('div', { class: 'messages', attrs: { 'aria-live': 'polite' } });
}

/** Shows the server's refusal as it sent it (already in the operator's language), with its code. */
export function showError(region: HTMLElement, error: ApiError): void {
  clear(region);
  region.append(h('div', { class: 'alert error', attrs: { role: 'alert', 'data-code': error.code } }, h('p', null, error.message), h('p', { class: 'code' }, `[${error.code}]`)));
}

export function showKeyed<K extends string>(ui: Ui<K>, region: HTMLElement, kind: 'error' | 'success' | 'info', key: K, params?: Params): void {
  clear(region);
  region.append(h('div', { class: `alert ${kind}`, attrs: { role: kind === 'error' ? 'alert' : 'status' } }, ui.key(h('p'), key, params)));
}

export function clearMessages(region: HTMLElement): void {
  clear(region);
}

/** Focuses the first invalid control; true when there was one. */
export function focusFirstInvalid(form: HTMLElement): boolean {
  const bad = form.querySelector<HTMLElement>('[aria-invalid="true"]');
  bad?.focus();
  return bad !== null;
}
