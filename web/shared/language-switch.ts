import { h, uid, type Ui } from './dom.js';
import { LANGUAGES, isLanguage } from './i18n.js';
import type { SharedKey } from './messages.js';

/**
 * The language switch every page shows: a labelled select of 日本語 / English / 한국어. Each option is
 * written in its own language, so anyone can find theirs whatever the page shows now.
 */
export function languageSwitch<K extends string>(ui: Ui<K | SharedKey>): HTMLElement {
  const id = uid('lang');
  const select = h('select', { id, attrs: { name: 'lang' } });
  for (const l of LANGUAGES) select.append(ui.key(h('option', { attrs: { value: l, lang: l } }), `lang.${l}`));
  select.value = ui.i18n.lang;
  select.addEventListener('change', () => {
    if (isLanguage(select.value)) ui.i18n.setLanguage(select.value);
  });
  ui.i18n.onChange((l) => (select.value = l));
  return h('div', { class: 'lang-switch' }, ui.key(h('label', { attrs: { for: id } }), 'lang.label'), select);
}
