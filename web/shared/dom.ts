import type { I18n, Params } from './i18n.js';

/**
 * A few lines instead of a framework: build elements with `h`, put translated text in with `Ui.txt` (keyed,
 * so a language switch re-translates it), and never use innerHTML: every value from the API is text.
 */
export type Child = Node | string | number | null | undefined | false;

export interface Props {
  id?: string;
  class?: string;
  /** Attributes; `false`/`undefined` leaves one out, `true` sets it empty. */
  attrs?: Record<string, string | number | boolean | undefined>;
  on?: { [E in keyof HTMLElementEventMap]?: (ev: HTMLElementEventMap[E]) => void };
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props?: Props | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props?.id) el.id = props.id;
  if (props?.class) el.className = props.class;
  for (const [name, value] of Object.entries(props?.attrs ?? {})) {
    if (value === false || value === undefined) continue;
    el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const [event, handler] of Object.entries(props?.on ?? {})) el.addEventListener(event, handler as EventListener);
  append(el, ...children);
  return el;
}

export function append(el: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

let ids = 0;
/** A unique id for label/description links. */
export function uid(prefix: string): string {
  return `${prefix}-${++ids}`;
}

/** Translated pieces of a page, typed by the page's catalogue keys. */
export class Ui<K extends string> {
  constructor(readonly i18n: I18n<K>) {}

  t(key: K, params?: Params): string {
    return this.i18n.t(key, params);
  }

  /** A keyed text node (a span) that follows the language switch. */
  txt(key: K, params?: Params): HTMLSpanElement {
    return this.key(h('span'), key, params);
  }

  /** Keys an element's text. */
  key<E extends HTMLElement>(el: E, key: K, params?: Params): E {
    el.dataset.i18n = key;
    if (params) el.dataset.i18nParams = JSON.stringify(params);
    el.textContent = this.t(key, params);
    return el;
  }

  /** Keys an attribute (placeholder, aria-label, title). */
  attr<E extends HTMLElement>(el: E, attr: string, key: K, params?: Params): E {
    el.dataset.i18nAttr = [el.dataset.i18nAttr, `${attr}=${key}`].filter(Boolean).join(';');
    if (params) el.dataset.i18nParams = JSON.stringify(params);
    el.setAttribute(attr, this.t(key, params));
    return el;
  }
}

/** Moves focus to a heading after a view changes (screen readers announce where they are). */
export function focusHeading(root: Element): void {
  const heading = root.querySelector<HTMLElement>('h1, h2');
  if (!heading) return;
  heading.tabIndex = -1;
  heading.focus();
}
