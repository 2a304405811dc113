import { defineCatalogue } from './i18n.js';

/** Words every page uses: the language switch, printing, and what to say when no answer came. */
export const sharedMessages = defineCatalogue(
  {
    'lang.label': '表示言語',
    'lang.ja': '日本語',
    'lang.en': 'English',
    'lang.ko': '한국어',
    'common.loading': '読み込み中…',
    'common.print': '印刷する',
    'common.close': '閉じる',
    'common.back': '戻る',
    'common.skip': '本文へ移動',
    'common.network':
      'サーバーから応答がありませんでした。処理されたかどうかは不明です。もう一度送信すると同じ申請として扱われ、二重に処理されることはありません。',
    'common.http': 'サーバーが予期しない応答を返しました（HTTP {status}）。',
    'common.replayed': '同じ申請は既に処理されていました。最初の処理結果を表示しています。',
    'common.yen': '{amount}円',
    'common.none': 'なし',
  },
  {
    'lang.label': 'Language',
    'lang.ja': '日本語',
    'lang.en': 'English',
    'lang.ko': '한국어',
    'common.loading': 'Loading…',
    'common.print': 'Print',
    'common.close': 'Close',
    'common.back': 'Back',
    'common.skip': 'Skip to content',
    'common.network':
      'No answer came from the server, so it is not known whether this was done. Submitting again is treated as the same application and is never done twice.',
    'common.http': 'The server answered unexpectedly (HTTP {status}).',
    'common.replayed': 'This application had already been processed. Its first result is shown.',
    'common.yen': '{amount} yen',
    'common.none': 'none',
  },
  {
    'lang.label': '표시 언어',
    'lang.ja': '日本語',
    'lang.en': 'English',
    'lang.ko': '한국어',
    'common.loading': '불러오는 중…',
    'common.print': '인쇄',
    'common.close': '닫기',
    'common.back': '돌아가기',
    'common.skip': '본문으로 이동',
    'common.network':
      '서버에서 응답이 없어 처리 여부를 알 수 없습니다. 다시 제출하면 같은 신청으로 처리되며 이중으로 처리되지 않습니다.',
    'common.http': '서버가 예상치 못한 응답을 보냈습니다(HTTP {status}).',
    'common.replayed': '같은 신청이 이미 처리되었습니다. 처음 처리 결과를 표시합니다.',
    'common.yen': '{amount}엔',
    'common.none': '없음',
  },
);
export type SharedKey = keyof typeof sharedMessages.ja;
