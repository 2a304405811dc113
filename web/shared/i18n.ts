/**
 * Languages of the browser pages: Japanese first, English and Korean available. A page builds one `I18n`
 * from the shared catalogue and its own; every translated text node carries its key (`data-i18n`), so a
 * language switch re-translates the page in place without losing what the operator has typed.
 *
 * A catalogue is `{ ja, en, ko }` with the same keys in each (the type checker enforces it through
 * `defineCatalogue`); `{name}` placeholders are filled from params.
 */
export const LANGUAGES = ['ja', 'en', 'ko'] as const;
export type Language = (typeof LANGUAGES)[number];

export type Messages<K extends string> = Record<K, string>;
export interface Catalogue<K extends string> {
  ja: Messages<K>;
  en: Messages<K>;
  ko: Messages<K>;
}

/** Japanese defines the keys; English and Korean must give exactly those. */
export function defineCatalogue<K extends string>(ja: Messages<K>, en: Messages<NoInfer<K>>, ko: Messages<NoInfer<K>>): Catalogue<K> {
  return { ja, en, ko };
}

export type Params = Record<string, string | number>;

export function isLanguage(v: unknown): v is Language {
  return typeof v === 'string' && (LANGUAGES as readonly string[]).includes(v);
}

const STORAGE_KEY = 'jpki.lang';

/** The language chosen on this browser (the switch), if any. */
export function savedLanguage(): Language | undefined {
  try {
    const v = localStorage.getItem(STORAGE_KEY);
    return isLanguage(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The first of the browser's preferred languages (`navigator.languages`: ko-KR → ko) that the pages have. */
export function browserLanguage(preferred: readonly string[] = typeof navigator === 'undefined' ? [] : navigator.languages): Language | undefined {
  for (const tag of preferred) {
    const primary = tag.toLowerCase().split('-')[0];
    if (isLanguage(primary)) return primary;
  }
  return undefined;
}

/**
 * `?lang=` of the page, else the choice saved on this browser (the switch), else the browser's own language,
 * else Japanese. An operator's setting on the server does not decide what a browser shows (issue 11): a
 * fresh browser opens in its user's language until they choose another one.
 */
export function initialLanguage(): Language {
  const q = new URLSearchParams(location.search).get('lang');
  return isLanguage(q) ? q : (savedLanguage() ?? browserLanguage() ?? 'ja');
}

export function fill(template: string, params: Params = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, k: string) => (params[k] === undefined ? whole : String(params[k])));
}

type Listener = (lang: Language) => void;

export class I18n<K extends string> {
  private listeners: Listener[] = [];

  constructor(
    private readonly catalogue: Catalogue<K>,
    public lang: Language = initialLanguage(),
  ) {}

  t(key: K, params?: Params): string {
    return this.in(this.lang, key, params);
  }

  /** The text in a given language (e.g. a paper's official Japanese title on an English page). */
  in(lang: Language, key: K, params?: Params): string {
    const template = this.catalogue[lang][key] ?? this.catalogue.ja[key] ?? key;
    return fill(template, params);
  }

  /** Switches the language: the document, every keyed node, then the listeners (e.g. tell the server). */
  setLanguage(lang: Language, remember = true): void {
    this.lang = lang;
    if (remember) {
      try {
        localStorage.setItem(STORAGE_KEY, lang);
      } catch {
        // private mode: the choice lasts for this page only
      }
    }
    this.apply(document.documentElement);
    for (const l of this.listeners) l(lang);
  }

  onChange(l: Listener): void {
    this.listeners.push(l);
  }

  /** Translates every keyed node below `root` (text, and the attributes named in data-i18n-attr). */
  apply(root: Element): void {
    if (root === document.documentElement) document.documentElement.lang = this.lang;
    const nodes = root.querySelectorAll<HTMLElement>('[data-i18n], [data-i18n-attr]');
    for (const el of [root as HTMLElement, ...Array.from(nodes)]) {
      if (!el.dataset) continue;
      const params = el.dataset.i18nParams ? (JSON.parse(el.dataset.i18nParams) as Params) : undefined;
      if (el.dataset.i18n) el.textContent = this.t(el.dataset.i18n as K, params);
      if (el.dataset.i18nAttr) {
        for (const pair of el.dataset.i18nAttr.split(';')) {
          const [attr, key] = pair.split('=');
          if (attr && key) el.setAttribute(attr, this.t(key as K, params));
        }
      }
    }
  }

  /** Merges catalogues: the shared one and a page's own. */
  static merge<A extends string, B extends string>(a: Catalogue<A>, b: Catalogue<B>): Catalogue<A | B> {
    return { ja: { ...a.ja, ...b.ja }, en: { ...a.en, ...b.en }, ko: { ...a.ko, ...b.ko } } as Catalogue<A | B>;
  }
}
