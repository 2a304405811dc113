import type { Lang } from '../labels.js';

/** The agent's own window in the three languages (Japanese first). */
const ja = {
  title: '公的個人認証サービス 利用者クライアント',
  asks: '次のサイトが要求しています',
  whatCertificate: '電子証明書の読み取り',
  whatSign: '電子署名',
  keySign: '署名用電子証明書',
  keyAuth: '利用者証明用電子証明書',
  summary: '内容の説明（サイトによる）',
  contentType: 'データの種類',
  digest: '署名するデータのSHA-256',
  size: 'データの大きさ',
  bytes: '{n}バイト',
  text: '署名するデータ（本文）',
  pinSign: '署名用パスワード（6〜16文字の英大文字と数字）',
  pinAuth: '利用者証明用暗証番号（数字4桁）',
  approve: '承認',
  refuse: '拒否',
  expires: 'この要求は{time}まで有効です。',
  note: '暗証番号は要求したサイトには渡りません。カードとこの画面の間でだけ使われます。',
  doneTitle: '処理が終わりました',
  done: 'カードで処理しました。このウィンドウを閉じて、元の画面に戻ってください。',
  refused: '拒否しました。要求したサイトには何も渡っていません。',
  failed: '処理できませんでした',
  gone: 'この要求はありません（期限切れ、または処理済み）。',
  expired: 'この要求は期限が切れました（2分）。元の画面からやり直してください。',
  close: '閉じる',
} as const;

export type AgentMessageKey = keyof typeof ja;

const en: Record<AgentMessageKey, string> = {
  title: 'JPKI user client software',
  asks: 'This site is asking',
  whatCertificate: 'Read a certificate from your card',
  whatSign: 'Sign with your card',
  keySign: 'Digital signature certificate (署名用)',
  keyAuth: 'User authentication certificate (利用者証明用)',
  summary: 'What it is (as the site describes it)',
  contentType: 'Type of data',
  digest: 'SHA-256 of the data to be signed',
  size: 'Size',
  bytes: '{n} bytes',
  text: 'The data to be signed (text)',
  pinSign: 'Signing password (6–16 capital letters and digits)',
  pinAuth: 'User authentication PIN (4 digits)',
  approve: 'Approve (承認)',
  refuse: 'Refuse (拒否)',
  expires: 'This request is valid until {time}.',
  note: 'The PIN never goes to the site that asked. It is used only between your card and this window.',
  doneTitle: 'Done',
  done: 'Your card has done it. Close this window and go back to the site.',
  refused: 'Refused. Nothing was given to the site that asked.',
  failed: 'This could not be done',
  gone: 'There is no such request (it expired or was already handled).',
  expired: 'This request has expired (2 minutes). Start again from the site.',
  close: 'Close',
};

const ko: Record<AgentMessageKey, string> = {
  title: '공적 개인 인증 서비스 이용자 클라이언트',
  asks: '다음 사이트가 요청하고 있습니다',
  whatCertificate: '카드의 전자증명서 읽기',
  whatSign: '카드로 전자서명',
  keySign: '서명용 전자증명서',
  keyAuth: '이용자 증명용 전자증명서',
  summary: '내용 설명 (사이트 제공)',
  contentType: '데이터 종류',
  digest: '서명할 데이터의 SHA-256',
  size: '데이터 크기',
  bytes: '{n}바이트',
  text: '서명할 데이터 (본문)',
  pinSign: '서명용 비밀번호 (영문 대문자와 숫자 6~16자)',
  pinAuth: '이용자 증명용 비밀번호 (숫자 4자리)',
  approve: '승인 (承認)',
  refuse: '거부 (拒否)',
  expires: '이 요청은 {time}까지 유효합니다.',
  note: '비밀번호는 요청한 사이트에 전달되지 않습니다. 카드와 이 화면 사이에서만 사용됩니다.',
  doneTitle: '처리 완료',
  done: '카드로 처리했습니다. 이 창을 닫고 원래 화면으로 돌아가십시오.',
  refused: '거부했습니다. 요청한 사이트에는 아무것도 전달되지 않았습니다.',
  failed: '처리할 수 없었습니다',
  gone: '해당 요청이 없습니다 (기한 만료 또는 처리 완료).',
  expired: '이 요청은 기한이 지났습니다 (2분). 원래 화면에서 다시 시작하십시오.',
  close: '닫기',
};

const CATALOGUE: Record<Lang, Record<AgentMessageKey, string>> = { ja, en, ko };

export function agentText(lang: Lang, key: AgentMessageKey, params: Record<string, string | number> = {}): string {
  return CATALOGUE[lang][key].replace(/\{(\w+)\}/g, (w, k: string) => (params[k] === undefined ? w : String(params[k])));
}

/** `?lang=`, else the browser's Accept-Language, else Japanese. */
export function pickLang(query: unknown, acceptLanguage: string | undefined): Lang {
  if (query === 'ja' || query === 'en' || query === 'ko') return query;
  for (const part of (acceptLanguage ?? '').split(',')) {
    const tag = part.trim().slice(0, 2).toLowerCase();
    if (tag === 'ja' || tag === 'en' || tag === 'ko') return tag;
  }
  return 'ja';
}
