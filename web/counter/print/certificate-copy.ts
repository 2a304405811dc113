import { h } from '../../shared/dom.js';
import type { CertificateCopy, Handover } from '../types.js';
import { date, fields, fingerprintRows, paperHead, type Paper, type PaperContext } from './paper.js';

/**
 * The copy of the certificates (電子証明書の写し, guide §4(3) ⑤): both certificates as written onto the card —
 * serial, issuer, subject, validity in era dates, fingerprints, the PEM — and the four facts of the signing
 * certificate as the certificate itself carries them (the API decodes them from the certificate).
 */
export const certificateCopyPaper: Paper<Handover> = {
  title: 'copy.title',
  load: (api, number) => api.get<Handover>(`/issuances/${encodeURIComponent(number)}/certificate-copy`),
  render(c, d) {
    return h(
      'article',
      { class: 'paper-sheet certificate-copy' },
      paperHead(c, 'copy.title', d.sign.issuer),
      fields(c, [
        ['copy.holder', h('span', { class: 'holder' }, d.resident.name)],
        ['copy.application', d.applicationNumber],
        ['copy.receipt', d.receiptNumber ?? ''],
      ]),
      c.ui.key(h('p', { class: 'paper-intro' }), 'copy.intro'),
      certificate(c, d.sign),
      certificate(c, d.auth),
    );
  },
};

function certificate(c: PaperContext, x: CertificateCopy): HTMLElement {
  const facts = x.facts
    ? h(
        'div',
        { class: 'facts-block' },
        h('h3', null, c.ui.txt('copy.facts')),
        fields(c, [
          ['resident.name', x.facts.name],
          ['resident.dateOfBirth', h('span', { attrs: { 'data-fact': 'dateOfBirth' } }, x.facts.dateOfBirthJa)],
          ['resident.sex', h('span', { attrs: { 'data-fact': 'sex' } }, x.facts.sexJa)],
          ['resident.address', x.facts.address],
        ]),
      )
    : null;
  return h(
    'section',
    { class: 'paper-section certificate', attrs: { 'data-kind': x.kind, 'data-serial': x.serial } },
    h('h2', null, c.ui.txt(x.kind === 'auth' ? 'cert.kind.auth' : 'cert.kind.sign')),
    fields(c, [
      ['cert.serial', h('code', null, x.serial)],
      ['cert.issuer', x.issuer],
      ['copy.subject', h('code', { class: 'subject' }, x.subject)],
      ['copy.notBefore', date(c, x.notBefore, x.notBeforeJa)],
      ['copy.notAfter', date(c, x.notAfter, x.notAfterJa)],
    ]),
    facts,
    fingerprintRows(c, x.sha1, x.sha256),
    h('h3', null, c.ui.txt('copy.pem')),
    h('pre', { class: 'pem', attrs: { 'data-pem': x.kind } }, x.pem.trim()),
  );
}

