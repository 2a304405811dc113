/**
 * Server-rendered HTML of the user client software (the agent's approval window, the standalone certificate
 * page): every value is escaped here, in one place.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Tagged template: interpolations are escaped unless wrapped in `raw()`. */
export class RawHtml {
  constructor(readonly html: string) {}
}

export function raw(html: string): RawHtml {
  return new RawHtml(html);
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): RawHtml {
  let out = strings[0]!;
  values.forEach((v, i) => {
    out += render(v) + strings[i + 1]!;
  });
  return new RawHtml(out);
}

function render(v: unknown): string {
  if (v instanceof RawHtml) return v.html;
  if (Array.isArray(v)) return v.map(render).join('');
  if (v === null || v === undefined || v === false) return '';
  return escapeHtml(String(v));
}
