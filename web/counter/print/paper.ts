import type { ApiClient } from '../../shared/api.js';
import { residentDate } from '../../shared/dates.js';
import { h, type Child, type Ui } from '../../shared/dom.js';
import type { Params } from '../../shared/i18n.js';
import type { Key } from '../context.js';

/**
 * What every printable paper is made of: a head with the official Japanese title (and the page language's
 * title under it when that is not Japanese), labelled fields, fingerprints on lines of their own (an A4
 * line holds a whole SHA-256 fingerprint), and era dates.
 */
export interface PaperContext {
  ui: Ui<Key>;
  api: ApiClient;
}

export interface Paper<T> {
  /** The document title (also the PDF's title when printed to a file). */
  title: Key;
  load(api: ApiClient, number: string): Promise<T>;
  render(c: PaperContext, data: T): HTMLElement;
}

export function paperHead(c: PaperContext, title: Key, issuerLine: string, number?: { label: Key; value: string }): HTMLElement {
  const { ui } = c;
  const lang = ui.i18n.lang;
  return h(
    'header',
    { class: 'paper-head' },
    h('p', { class: 'paper-issuer' }, issuerLine),
    h('h1', { attrs: { lang: 'ja' } }, ui.i18n.in('ja', title)),
    lang === 'ja' ? null : h('p', { class: 'paper-subtitle' }, ui.t(title)),
    number ? h('p', { class: 'paper-number' }, ui.txt(number.label), ` ${number.value}`) : null,
  );
}

/** Label–value rows. */
export function fields(c: PaperContext, rows: [Key, Child, Params?][]): HTMLDListElement {
  const dl = h('dl', { class: 'paper-fields' });
  for (const [k, v, p] of rows) dl.append(h('dt', null, c.ui.txt(k, p)), h('dd', null, v));
  return dl;
}

/** A fingerprint as `jpki ca list` prints it, on a line of its own. */
export function fingerprintRows(c: PaperContext, sha1: string, sha256: string, labels: { sha1: Key; sha256: Key } = { sha1: 'copy.sha1', sha256: 'copy.sha256' }): HTMLDListElement {
  return h(
    'dl',
    { class: 'fingerprints' },
    h('dt', null, c.ui.txt(labels.sha1)),
    h('dd', null, h('code', { class: 'fingerprint', attrs: { 'data-fingerprint': 'sha1' } }, sha1)),
    h('dt', null, c.ui.txt(labels.sha256)),
    h('dd', null, h('code', { class: 'fingerprint', attrs: { 'data-fingerprint': 'sha256' } }, sha256)),
  );
}

/** An era date for the resident (with the Gregorian date in brackets on English and Korean papers). */
export function date(c: PaperContext, iso: string, eraText?: string): HTMLSpanElement {
  return h('span', { class: 'era-date' }, residentDate(iso, c.ui.i18n.lang, eraText));
}

export function section(title: Child, ...children: Child[]): HTMLElement {
  return h('section', { class: 'paper-section' }, h('h2', null, title), ...children);
}
