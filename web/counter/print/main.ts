import { ApiClient, ApiError } from '../../shared/api.js';
import { h, Ui } from '../../shared/dom.js';
import { showError, showKeyed } from '../../shared/forms.js';
import { I18n } from '../../shared/i18n.js';
import { languageSwitch } from '../../shared/language-switch.js';
import { sharedMessages } from '../../shared/messages.js';
import type { Key } from '../context.js';
import { counterMessages } from '../messages.js';
import { supervisorMessages } from '../supervisor-messages.js';
import { certificateCopyPaper } from './certificate-copy.js';
import { noticePaper } from './notice.js';
import type { Paper } from './paper.js';
import { receiptPaper } from './receipt.js';
import { usageGuidePaper } from './usage-guide.js';

/**
 * The printable papers at /counter/print/<paper>?number=…: data from the counter API (the operator's
 * session cookie; another municipality's paper is refused there), laid out for A4 by paper.css. The
 * toolbar (print, language, close) is never printed. `body[data-ready]` says the paper is complete.
 */
const PAPERS: Record<string, Paper<never>> = {
  'certificate-copy': certificateCopyPaper as Paper<never>,
  'usage-guide': usageGuidePaper as Paper<never>,
  receipt: receiptPaper as Paper<never>,
  notice: noticePaper as Paper<never>,
};

async function startPrint(): Promise<void> {
  const i18n = new I18n<Key>(I18n.merge(I18n.merge(sharedMessages, counterMessages), supervisorMessages));
  const ui = new Ui<Key>(i18n);
  const api = new ApiClient({ base: '/api/counter', language: () => i18n.lang, networkMessage: () => ui.t('common.network'), httpMessage: (status) => ui.t('common.http', { status }) });
  const toolbar = document.getElementById('toolbar')!;
  const sheet = document.getElementById('paper')!;
  i18n.apply(document.documentElement);

  const print = ui.key(h('button', { class: 'primary', attrs: { type: 'button' } }), 'common.print');
  print.addEventListener('click', () => window.print());
  const close = ui.key(h('button', { class: 'secondary', attrs: { type: 'button' } }), 'common.close');
  close.addEventListener('click', () => window.close());
  toolbar.append(print, close, languageSwitch(ui), ui.key(h('p', { class: 'hint' }), 'print.hint'));

  const name = location.pathname.split('/').pop() ?? '';
  const number = new URLSearchParams(location.search).get('number');
  const paper = PAPERS[name];
  const finish = (drawn = false) => {
    // Nothing to print when there is no paper (unknown, or refused by the API).
    print.hidden = !drawn;
    document.body.dataset.ready = 'true';
  };
  if (!paper) return void (showKeyed(ui, sheet, 'error', 'print.unknown'), finish());
  if (!number) return void (showKeyed(ui, sheet, 'error', 'print.missing'), finish());

  let data: never;
  try {
    data = await paper.load(api, number);
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    showError(sheet, e);
    return finish();
  }
  // Papers hold data-dependent text (dates with the Gregorian date beside them): redrawn on a switch.
  const draw = () => {
    sheet.replaceChildren(paper.render({ ui, api }, data));
    document.title = `${ui.t(paper.title)} ${number}`;
  };
  draw();
  i18n.onChange(draw);
  finish(true);
}

void startPrint();
