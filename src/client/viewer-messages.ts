import type { Lang } from './labels.js';

/** The viewer window's own words (Japanese first). */
const ja = {
  title: '証明書Viewer',
  basic: '基本',
  details: '詳細',
  htmlView: 'HTML表示',
  close: '閉じる',
  closed: 'ビューアを閉じました。',
  critical: '重要',
  readCard: 'カードから署名用電子証明書を読み取ります',
  pin: '署名用パスワード',
  read: '読み取る',
  readAuth: '利用者証明用電子証明書を表示（パスワード不要）',
  lang: '表示言語',
  gone: 'この表示は期限が切れました。もう一度読み取ってください。',
} as const;
export type ViewerKey = keyof typeof ja;
const en: Record<ViewerKey, string> = {
  title: 'Certificate Viewer (証明書Viewer)',
  basic: 'Basic (基本)',
  details: 'Details (詳細)',
  htmlView: 'HTML view (HTML表示)',
  close: 'Close (閉じる)',
  closed: 'The viewer is closed.',
  critical: 'critical',
  readCard: 'Read the digital signature certificate from the card',
  pin: 'Signing password',
  read: 'Read',
  readAuth: 'Show the user authentication certificate (no password needed)',
  lang: 'Language',
  gone: 'This view has expired. Read the card again.',
};
const ko: Record<ViewerKey, string> = {
  title: '인증서 뷰어 (証明書Viewer)',
  basic: '기본 (基本)',
  details: '상세 (詳細)',
  htmlView: 'HTML 표시 (HTML表示)',
  close: '닫기 (閉じる)',
  closed: '뷰어를 닫았습니다.',
  critical: '중요',
  readCard: '카드에서 서명용 전자증명서를 읽습니다',
  pin: '서명용 비밀번호',
  read: '읽기',
  readAuth: '이용자 증명용 전자증명서 표시 (비밀번호 불필요)',
  lang: '표시 언어',
  gone: '이 표시는 기한이 지났습니다. 다시 읽어 주십시오.',
};
const CATALOGUE: Record<Lang, Record<ViewerKey, string>> = { ja, en, ko };

export function viewerText(lang: Lang, key: ViewerKey): string {
  return CATALOGUE[lang][key];
}
