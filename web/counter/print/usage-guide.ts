import { h } from '../../shared/dom.js';
import type { Key } from '../context.js';
import type { CaFingerprint, UsageGuide } from '../types.js';
import { date, fields, fingerprintRows, paperHead, section, type Paper, type PaperContext } from './paper.js';

/**
 * The usage guide handed out at issuance (電子証明書利用のご案内, guide §4(3) ⑤ and §4(10)): how to use the
 * certificates, the PIN rules and the lock-out, what ends a certificate early, the fingerprints of the
 * prefectural CA's and the bridge CA's self-signed certificates in full (SHA-1 and SHA-256, exactly as
 * `jpki ca list` prints them), and where the portal is.
 */
const INVALIDATED_BY: Record<string, Key> = {
  move: 'invalid.move',
  'name-change': 'invalid.name-change',
  correction: 'invalid.correction',
  death: 'invalid.death',
  revocation: 'invalid.revocation',
};

export const usageGuidePaper: Paper<UsageGuide> = {
  title: 'guide.title',
  load: (api, number) => api.get<UsageGuide>(`/issuances/${encodeURIComponent(number)}/usage-guide`),
  render(c, g) {
    const { ui } = c;
    const li = (key: Key, params?: Record<string, string | number>) => h('li', null, ui.txt(key, params));
    return h(
      'article',
      { class: 'paper-sheet usage-guide' },
      paperHead(c, 'guide.title', g.prefecturalCa.name),
      h('p', { class: 'paper-intro' }, ui.txt('guide.intro', { issuer: g.prefecturalCa.name })),
      section(ui.txt('guide.use.title'), h('ol', null, li('guide.use.1'), li('guide.use.2'), li('guide.use.3'), li('guide.use.4'))),
      section(
        ui.txt('guide.pin.title'),
        h('ul', null, li('guide.pin.sign', { maxTries: g.pinRules.sign.maxTries }), li('guide.pin.auth', { maxTries: g.pinRules.auth.maxTries }), li('guide.pin.lock'), li('guide.pin.safe')),
      ),
      section(
        ui.txt('guide.validity.title'),
        h('p', null, ui.txt('guide.validity.until', { date: date(c, g.validUntil, g.validUntilJa).textContent ?? g.validUntilJa })),
        h('p', null, ui.txt('guide.validity.early')),
        h('ul', null, ...g.invalidatedBy.map((w) => (INVALIDATED_BY[w] ? li(INVALIDATED_BY[w]) : h('li', null, w)))),
        h('p', null, ui.txt('guide.validity.check')),
      ),
      section(ui.txt('guide.fp.title'), h('p', null, ui.txt('guide.fp.intro')), authority(c, 'guide.fp.pref', g.prefecturalCa), authority(c, 'guide.fp.bridge', g.bridgeCa)),
      section(ui.txt('guide.portal.title'), h('p', null, ui.txt('guide.portal.text')), h('p', { class: 'portal-url' }, h('code', null, g.portalUrl))),
    );
  },
};

function authority(c: PaperContext, heading: Key, a: CaFingerprint): HTMLElement {
  return h(
    'div',
    { class: 'authority', attrs: { 'data-ca': a.id } },
    h('h3', null, c.ui.txt(heading)),
    fields(c, [
      ['guide.fp.name', a.name],
      ['guide.fp.subject', h('code', { class: 'subject' }, a.subject)],
      ['guide.fp.notAfter', date(c, a.notAfter)],
    ]),
    fingerprintRows(c, a.sha1, a.sha256),
  );
}
