import type { CertificateView, DetailRow } from './certificate-view.js';
import { html, raw, type RawHtml } from './html.js';
import type { Lang } from './labels.js';
import { viewerText } from './viewer-messages.js';

/**
 * HTML表示: the certificate as one standalone HTML page (no script, no outside resource, inline style), both
 * tabs one after the other, so it can be saved, printed or mailed to someone who has no client software.
 */
export function certificateHtml(view: CertificateView, lang: Lang): string {
  const t = (k: Parameters<typeof viewerText>[1]) => viewerText(lang, k);
  return html`<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${t('title')}: ${view.subject}</title><style>${raw(CERTIFICATE_STYLE)}</style></head>
<body><main>
<h1>${t('title')}</h1>
${certificateSections(view, lang)}
</main></body></html>
`.html;
}

/** The two tabs' content (shared by the viewer page and the standalone page). */
export function certificateSections(view: CertificateView, lang: Lang, ids = { basic: 'basic', details: 'details' }): RawHtml {
  const t = (k: Parameters<typeof viewerText>[1]) => viewerText(lang, k);
  return html`<section id="${ids.details}" class="tab details" aria-labelledby="${ids.details}-h"><h2 id="${ids.details}-h">${t('details')}</h2><dl class="details">${detailRows(view.details, lang)}</dl></section>
<section id="${ids.basic}" class="tab basic" aria-labelledby="${ids.basic}-h"><h2 id="${ids.basic}-h">${t('basic')}</h2><table class="basic">${view.basic.map(
    (r) => html`<tr data-field="${r.field}"><th scope="row">${r.label[lang]}</th><td>${r.value[lang]}${r.date && lang !== 'ja' && r.field !== 'issuer' ? html` <span class="gregorian">(${gregorian(r.date, lang)})</span>` : ''}</td></tr>`,
  )}</table></section>`;
}

function gregorian(iso: string, lang: Lang): string {
  return new Intl.DateTimeFormat(lang === 'ko' ? 'ko-KR' : 'en-GB', { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'Asia/Tokyo' }).format(new Date(iso));
}

function detailRows(rows: DetailRow[], lang: Lang): RawHtml[] {
  return rows.map(
    (r) =>
      html`<div class="row"${r.oid ? html` data-oid="${r.oid}"` : ''}><dt>${r.label[lang]}${r.critical ? html` <span class="critical">${viewerText(lang, 'critical')}</span>` : ''}${r.oid && !r.label.ja.includes(r.oid) ? html` <span class="oid">${r.oid}</span>` : ''}</dt>${r.value ? html`<dd>${r.value[lang].split('\n').map((line, i) => html`${i ? raw('<br>') : ''}${line}`)}</dd>` : ''}${r.rows ? html`<dd><dl class="nested">${detailRows(r.rows, lang)}</dl></dd>` : ''}</div>`,
  );
}

export const CERTIFICATE_STYLE = `body{font-family:system-ui,"Noto Sans CJK JP",sans-serif;margin:0;background:#f4f6f8;color:#111}
main{max-width:46rem;margin:1rem auto;background:#fff;padding:1rem 1.5rem;border:1px solid #ccd}
h1{font-size:1.15rem;border-bottom:2px solid #1f4e8c;padding-bottom:.4rem}h2{font-size:1rem;color:#1f4e8c}
table.basic th{text-align:left;padding:.35rem 1.2rem .35rem 0;white-space:nowrap;font-weight:600}table.basic td{padding:.35rem 0;font-size:1.05rem}
dl.details{margin:0}.row{border-top:1px solid #e3e6ea;padding:.3rem 0}dt{font-weight:600}dd{margin:.15rem 0 .15rem 1.2rem;word-break:break-all}
.oid{color:#666;font-weight:400;font-size:.85rem}.critical{color:#8c1f1f;font-size:.85rem}.gregorian{color:#555;font-size:.9rem}`;
