/**
 * The counter's messages in the operator's language: Japanese first, then English and Korean. One entry per
 * error code with `{param}` placeholders filled from the error's params; parameter values that are words
 * of the domain (which PIN, which field, which step) are translated too. Codes without an entry fall back to
 * the error's own (English) message, so a new code is never shown blank.
 */
export const LANGUAGES = ['ja', 'en', 'ko'] as const;
export type Language = (typeof LANGUAGES)[number];

export function isLanguage(v: unknown): v is Language {
  return typeof v === 'string' && (LANGUAGES as readonly string[]).includes(v);
}

type Catalogue = Record<string, Record<Language, string>>;

const MESSAGES: Catalogue = {
  // ---- access ----------------------------------------------------------------------------------------
  COUNTER_OUT_OF_SCOPE: {
    ja: 'この住民（または申請・書類）は他の市区町村に属しています。自分の市区町村の住民に対してのみ処理できます。',
    en: 'This resident (or application, paper) belongs to another municipality. You can act only on residents of your own municipality.',
    ko: '이 주민(또는 신청·서류)은 다른 시구정촌 소속입니다. 자신의 시구정촌 주민에 대해서만 처리할 수 있습니다.',
  },
  COUNTER_SUPERVISOR_ONLY: {
    ja: 'この操作は監督者のみが行えます。',
    en: 'Only a supervisor may do this.',
    ko: '이 작업은 감독자만 할 수 있습니다.',
  },
  COUNTER_LOGIN_FAILED: {
    ja: '職員名またはパスワードが違います。{limit}回続けて失敗するとしばらくログインできなくなります。',
    en: 'Unknown operator or wrong password. After {limit} failed logins an account is locked for a while.',
    ko: '직원 이름 또는 비밀번호가 틀립니다. {limit}회 연속 실패하면 잠시 로그인할 수 없습니다.',
  },
  COUNTER_SESSION_REQUIRED: {
    ja: 'ログインしていないか、セッションの有効期限が切れました。もう一度ログインしてください。',
    en: 'You are not logged in, or the session has ended. Please log in again.',
    ko: '로그인하지 않았거나 세션이 만료되었습니다. 다시 로그인하십시오.',
  },
  COUNTER_CSRF_TOKEN_INVALID: {
    ja: '要求を確認できませんでした（CSRFトークンがありません）。画面を読み込み直してください。',
    en: 'The request could not be confirmed (missing CSRF token). Reload the page.',
    ko: '요청을 확인할 수 없습니다(CSRF 토큰 없음). 페이지를 다시 불러오십시오.',
  },
  COUNTER_OPERATOR_EXISTS: {
    ja: '職員 {operator} は既に登録されています。',
    en: 'An operator named {operator} already exists.',
    ko: '직원 {operator}은(는) 이미 등록되어 있습니다.',
  },
  COUNTER_OPERATOR_NOT_FOUND: {
    ja: '職員 {operator} は登録されていません。',
    en: 'There is no operator named {operator}.',
    ko: '직원 {operator}은(는) 등록되어 있지 않습니다.',
  },
  COUNTER_OPERATOR_NOT_LOCKED: {
    ja: '職員 {operator} はロックされていません。',
    en: 'Operator {operator} is not locked.',
    ko: '직원 {operator}은(는) 잠겨 있지 않습니다.',
  },
  COUNTER_OPERATOR_ALREADY_LOCKED: {
    ja: '職員 {operator} は既にロックされています。',
    en: 'Operator {operator} is already locked.',
    ko: '직원 {operator}은(는) 이미 잠겨 있습니다.',
  },
  COUNTER_OPERATOR_SELF: {
    ja: '自分自身のアカウントをロックしたり、自分の監督者権限を外したりすることはできません。別の監督者に依頼してください。',
    en: 'You cannot lock your own account or remove your own supervisor role. Ask another supervisor.',
    ko: '자신의 계정을 잠그거나 자신의 감독자 권한을 해제할 수 없습니다. 다른 감독자에게 요청하십시오.',
  },
  COUNTER_PASSWORD_TOO_WEAK: {
    ja: 'パスワードは10文字以上で、英字のみ・数字のみでないものにしてください。',
    en: 'The password must be at least 10 characters and not only letters or only digits.',
    ko: '비밀번호는 10자 이상이어야 하며 영문자만 또는 숫자만으로 구성될 수 없습니다.',
  },
  // ---- input and workflow ----------------------------------------------------------------------------
  COUNTER_REQUEST_INVALID: {
    ja: '「{field}」の入力が正しくありません（{problem}）。',
    en: 'The field "{field}" is not acceptable ({problem}).',
    ko: '「{field}」 입력이 올바르지 않습니다({problem}).',
  },
  COUNTER_IDEMPOTENCY_KEY_REQUIRED: {
    ja: '送信にはIdempotency-Keyヘッダーが必要です。',
    en: 'This submission needs an Idempotency-Key header.',
    ko: '이 제출에는 Idempotency-Key 헤더가 필요합니다.',
  },
  COUNTER_IDEMPOTENCY_KEY_REUSED: {
    ja: 'このIdempotency-Keyは別の内容の送信に使われています。新しい操作には新しいキーを使ってください。',
    en: 'This Idempotency-Key was used for a different submission. Use a new key for a new action.',
    ko: '이 Idempotency-Key는 다른 내용의 제출에 사용되었습니다. 새 작업에는 새 키를 사용하십시오.',
  },
  COUNTER_SUBMISSION_IN_PROGRESS: {
    ja: '同じ送信を処理中です。完了までお待ちください。',
    en: 'The same submission is still being processed. Please wait for it to finish.',
    ko: '같은 제출을 처리 중입니다. 완료될 때까지 기다리십시오.',
  },
  COUNTER_APPLICATION_NOT_FOUND: {
    ja: '申請 {number} は見つかりません。',
    en: 'Application {number} was not found.',
    ko: '신청 {number}을(를) 찾을 수 없습니다.',
  },
  COUNTER_APPLICATION_CLOSED: {
    ja: '申請 {number} は既に{status}です。',
    en: 'Application {number} is already {status}.',
    ko: '신청 {number}은(는) 이미 {status} 상태입니다.',
  },
  COUNTER_STEP_OUT_OF_ORDER: {
    ja: '申請 {number} は現在「{step}」の段階です。手順の順番どおりに進めてください。',
    en: 'Application {number} is at the step "{step}". Please follow the steps in order.',
    ko: '신청 {number}은(는) 현재 「{step}」 단계입니다. 순서대로 진행하십시오.',
  },
  COUNTER_APPLICATION_NOT_COMPLETED: {
    ja: '申請 {number} はまだ完了していません。',
    en: 'Application {number} is not completed yet.',
    ko: '신청 {number}은(는) 아직 완료되지 않았습니다.',
  },
  COUNTER_FORM_MISMATCH: {
    ja: '申請書の「{field}」が住民基本台帳の記録と一致しません。',
    en: 'The form\u2019s "{field}" does not match the resident register.',
    ko: '신청서의 「{field}」이(가) 주민기본대장 기록과 일치하지 않습니다.',
  },
  COUNTER_FEE_INCORRECT: {
    ja: '発行手数料は{expected}円です（受け取った額: {given}円）。',
    en: 'The issuance fee is {expected} yen (received: {given} yen).',
    ko: '발급 수수료는 {expected}엔입니다(받은 금액: {given}엔).',
  },
  COUNTER_PIN_GUESSABLE: {
    ja: '{pin}に生年月日や同じ数字の繰り返しなど推測されやすいものは使えません。',
    en: 'The {pin} must not be guessable (date of birth, one digit repeated).',
    ko: '{pin}에 생년월일이나 같은 숫자 반복 등 추측하기 쉬운 것은 사용할 수 없습니다.',
  },
  // ---- device and card -------------------------------------------------------------------------------
  COUNTER_DEVICE_NOT_FOUND: {
    ja: '鍵ペア生成装置 {device} はこの窓口にありません。',
    en: 'Key-pair generation device {device} is not installed at this counter.',
    ko: '키쌍 생성장치 {device}은(는) 이 창구에 없습니다.',
  },
  COUNTER_DEVICE_URI_INVALID: {
    ja: '装置の指定 {uri} が正しくありません（file:<カードイメージ> または pcsc:<リーダー名>）。',
    en: 'The device {uri} is not valid (file:<card image> or pcsc:<reader name>).',
    ko: '장치 지정 {uri}이(가) 올바르지 않습니다(file:<카드 이미지> 또는 pcsc:<리더 이름>).',
  },
  COUNTER_DEVICE_BUSY: {
    ja: 'この申請の装置処理が実行中です。',
    en: 'A device session for this application is already running.',
    ko: '이 신청의 장치 처리가 이미 실행 중입니다.',
  },
  COUNTER_DEVICE_NO_CARD: {
    ja: '鍵ペア生成装置にICカードが入っていません。カードを入れてからやり直してください。',
    en: 'There is no IC card in the key-pair generation device. Insert the card and try again.',
    ko: '키쌍 생성장치에 IC 카드가 없습니다. 카드를 넣고 다시 시도하십시오.',
  },
  COUNTER_CARD_OF_ANOTHER_RESIDENT: {
    ja: '装置のICカードには他の住民の有効な電子証明書が入っています。',
    en: 'The IC card in the device holds live certificates of another resident.',
    ko: '장치의 IC 카드에 다른 주민의 유효한 전자증명서가 들어 있습니다.',
  },
  COUNTER_CARD_NOT_RESIDENTS: {
    ja: '装置のICカードにはこの住民の有効な電子証明書が入っていません。',
    en: 'The IC card in the device holds no live certificate of this resident.',
    ko: '장치의 IC 카드에 이 주민의 유효한 전자증명서가 없습니다.',
  },
  COUNTER_CARD_ISSUER_REFUSED: {
    ja: 'ICカードが発行者認証を受け付けません（他の発行元のカード、または発行者インターフェースがロックされています）。',
    en: 'The IC card refuses issuer authentication (a card of another issuer, or its issuer interface is locked).',
    ko: 'IC 카드가 발행자 인증을 거부합니다(다른 발행처의 카드이거나 발행자 인터페이스가 잠겨 있습니다).',
  },
  COUNTER_PIN_INCORRECT: {
    ja: '現在の{pin}が違います。あと{triesLeft}回間違えるとロックされます。',
    en: 'The current {pin} is wrong: {triesLeft} tries left before it locks.',
    ko: '현재 {pin}이(가) 틀립니다. {triesLeft}회 더 틀리면 잠깁니다.',
  },
  COUNTER_PIN_LOCKED: {
    ja: '{pin}はロックされています。ロック解除申請が必要です。',
    en: 'The {pin} is locked. A lock-release application is needed.',
    ko: '{pin}이(가) 잠겨 있습니다. 잠금 해제 신청이 필요합니다.',
  },
  COUNTER_PIN_NOT_LOCKED: {
    ja: '{pin}はロックされていません。忘れた場合は初期化申請をしてください。',
    en: 'The {pin} is not locked. If it was forgotten, use an initialisation application.',
    ko: '{pin}은(는) 잠겨 있지 않습니다. 잊어버린 경우 초기화 신청을 하십시오.',
  },
  COUNTER_ISSUANCE_ABORTED: {
    ja: 'ICカードへの書き込みに失敗しました（{step}）。電子証明書は発行されず、手数料も受領されていません。カードを確認してやり直してください。',
    en: 'Writing the IC card failed ({step}). No certificate was issued and no fee was charged. Check the card and try again.',
    ko: 'IC 카드 기록에 실패했습니다({step}). 전자증명서는 발급되지 않았고 수수료도 받지 않았습니다. 카드를 확인하고 다시 시도하십시오.',
  },
  COUNTER_NOTHING_TO_REVOKE: {
    ja: 'この住民には失効させる有効な電子証明書がありません。',
    en: 'This resident has no live certificate to revoke.',
    ko: '이 주민에게는 해지할 유효한 전자증명서가 없습니다.',
  },
  COUNTER_DOCUMENT_NOT_FOUND: {
    ja: '書類 {number} は見つかりません。',
    en: 'Paper {number} was not found.',
    ko: '서류 {number}을(를) 찾을 수 없습니다.',
  },
  // ---- the register ----------------------------------------------------------------------------------
  RESIDENT_NOT_FOUND: {
    ja: '住民 {residentId} は住民基本台帳にありません。',
    en: 'Resident {residentId} is not in the resident register.',
    ko: '주민 {residentId}은(는) 주민기본대장에 없습니다.',
  },
  RESIDENT_INVALID: {
    ja: '「{field}」の内容が正しくありません。',
    en: 'The field "{field}" is not acceptable.',
    ko: '「{field}」 내용이 올바르지 않습니다.',
  },
  MUNICIPALITY_UNKNOWN: {
    ja: '市区町村コード {municipality} は登録されていません。',
    en: 'Municipality code {municipality} is unknown.',
    ko: '시구정촌 코드 {municipality}은(는) 등록되어 있지 않습니다.',
  },
  ADDRESS_OUTSIDE_MUNICIPALITY: {
    ja: '住所は「{prefix}」から始まる必要があります。',
    en: 'The address must begin with "{prefix}".',
    ko: '주소는 「{prefix}」(으)로 시작해야 합니다.',
  },
  RESIDENT_DECEASED: {
    ja: 'この住民は死亡により消除されています。記録はこれ以上変更できません。',
    en: 'This resident has died; the record takes no further change.',
    ko: '이 주민은 사망으로 말소되었습니다. 더 이상 기록을 변경할 수 없습니다.',
  },
  RESIDENT_UNCHANGED: {
    ja: '記録に変更がありません。',
    en: 'Nothing recorded would change.',
    ko: '기록에 변경 사항이 없습니다.',
  },
  RESIDENT_CHANGED_CONCURRENTLY: {
    ja: 'この住民の記録は他の処理で更新されました。確認してからやり直してください。',
    en: 'This resident\u2019s record was changed meanwhile. Look again and retry.',
    ko: '이 주민의 기록이 다른 처리로 변경되었습니다. 확인 후 다시 시도하십시오.',
  },
  RECORD_CODE_TAKEN: {
    ja: '住民票コード {recordCode} は既に使われています。',
    en: 'Resident-record code {recordCode} is already in use.',
    ko: '주민표 코드 {recordCode}은(는) 이미 사용 중입니다.',
  },
  // ---- the card (through the device), the CA ---------------------------------------------------------
  'card.pin-format': {
    ja: '{pin}の形式が正しくありません。',
    en: 'The {pin} is not in the required format.',
    ko: '{pin} 형식이 올바르지 않습니다.',
  },
  'card.pin-not-set': {
    ja: 'このICカードには{pin}がまだ設定されていません。',
    en: 'The {pin} has not been set on this card yet.',
    ko: '이 IC 카드에는 {pin}이(가) 아직 설정되지 않았습니다.',
  },
  'card.image-in-use': {
    ja: 'ICカードは他の装置で使用中です。',
    en: 'The IC card is in use in another reader.',
    ko: 'IC 카드가 다른 장치에서 사용 중입니다.',
  },
  'card.image-missing': {
    ja: '鍵ペア生成装置にICカードが入っていません。',
    en: 'There is no IC card in the key-pair generation device.',
    ko: '키쌍 생성장치에 IC 카드가 없습니다.',
  },
  'card.secret-missing': {
    ja: 'このICカードはこのシステムで作られたものではありません。',
    en: 'This IC card was not made by this installation.',
    ko: '이 IC 카드는 이 시스템에서 만들어진 것이 아닙니다.',
  },
  CA_NOT_INITIALIZED: {
    ja: '認証局がまだ作成されていません。',
    en: 'The certification authorities have not been created yet.',
    ko: '인증국이 아직 생성되지 않았습니다.',
  },
  CA_NOT_READY: {
    ja: 'この都道府県の認証局はまだ作成中です。しばらくしてからもう一度お試しください。',
    en: 'The certification authority of this prefecture is still being created. Please try again in a moment.',
    ko: '이 도도부현의 인증국은 아직 생성 중입니다. 잠시 후 다시 시도해 주십시오.',
  },
  // ---- fallbacks ---------------------------------------------------------------------------------------
  'reader.*': {
    ja: 'カードリーダーまたはICカードに接続できません。装置を確認してください。',
    en: 'Cannot connect to the card reader or the IC card. Check the device.',
    ko: '카드 리더 또는 IC 카드에 연결할 수 없습니다. 장치를 확인하십시오.',
  },
  INTERNAL: {
    ja: 'システム内部でエラーが発生しました。処理は行われていません。',
    en: 'An internal error occurred. Nothing was done.',
    ko: '시스템 내부 오류가 발생했습니다. 처리되지 않았습니다.',
  },
  NOT_FOUND: {
    ja: 'そのようなリソースはありません。',
    en: 'No such resource.',
    ko: '해당 리소스가 없습니다.',
  },
  BAD_REQUEST: {
    ja: '要求を読み取れませんでした（JSONで送信してください）。',
    en: 'The request could not be read (send JSON).',
    ko: '요청을 읽을 수 없습니다(JSON으로 보내십시오).',
  },
};

/** Parameter values that are domain words, per parameter name. */
const VALUES: Record<string, Record<string, Record<Language, string>>> = {
  pin: {
    sign: { ja: '署名用電子証明書のパスワード', en: 'signing password', ko: '서명용 전자증명서 비밀번호' },
    auth: { ja: '利用者証明用電子証明書の暗証番号', en: 'user-authentication PIN', ko: '이용자 증명용 전자증명서 PIN 번호' },
  },
  step: {
    identity: { ja: '本人確認', en: 'identity check', ko: '본인 확인' },
    fee: { ja: '手数料', en: 'fee', ko: '수수료' },
    device: { ja: '鍵ペア生成装置', en: 'key-pair generation device', ko: '키쌍 생성장치' },
    done: { ja: '完了', en: 'done', ko: '완료' },
    'issuer-authentication': { ja: '発行者認証', en: 'issuer authentication', ko: '발행자 인증' },
    'key-generation': { ja: '鍵ペア生成', en: 'key-pair generation', ko: '키쌍 생성' },
    'certificate-writing': { ja: '証明書の書き込み', en: 'writing the certificates', ko: '증명서 기록' },
    'pin-setting': { ja: 'パスワードと暗証番号の設定', en: 'setting the password and the PIN', ko: '비밀번호와 PIN 번호 설정' },
    recording: { ja: '記録', en: 'recording', ko: '기록' },
  },
  status: {
    completed: { ja: '完了', en: 'completed', ko: '완료' },
    cancelled: { ja: '取消', en: 'cancelled', ko: '취소' },
    open: { ja: '受付中', en: 'open', ko: '접수 중' },
  },
  field: {
    name: { ja: '氏名', en: 'name', ko: '성명' },
    dateOfBirth: { ja: '生年月日', en: 'date of birth', ko: '생년월일' },
    address: { ja: '住所', en: 'address', ko: '주소' },
    sex: { ja: '性別', en: 'sex', ko: '성별' },
    municipality: { ja: '市区町村', en: 'municipality', ko: '시구정촌' },
    signPin: { ja: '署名用パスワード', en: 'signing password', ko: '서명용 비밀번호' },
    authPin: { ja: '利用者証明用暗証番号', en: 'user-authentication PIN', ko: '이용자 증명용 PIN 번호' },
    newPin: { ja: '新しいパスワード（暗証番号）', en: 'new password or PIN', ko: '새 비밀번호(PIN 번호)' },
    currentPin: { ja: '現在のパスワード（暗証番号）', en: 'current password or PIN', ko: '현재 비밀번호(PIN 번호)' },
    identity: { ja: '本人確認書類', en: 'photo ID', ko: '본인 확인 서류' },
    'identity.type': { ja: '本人確認書類の種類', en: 'photo ID type', ko: '본인 확인 서류 종류' },
    'identity.number': { ja: '本人確認書類の番号', en: 'photo ID number', ko: '본인 확인 서류 번호' },
    amount: { ja: '金額', en: 'amount', ko: '금액' },
    reason: { ja: '理由', en: 'reason', ko: '사유' },
    password: { ja: 'パスワード', en: 'password', ko: '비밀번호' },
    role: { ja: '役割', en: 'role', ko: '역할' },
    language: { ja: '言語', en: 'language', ko: '언어' },
    effectiveOn: { ja: '異動日', en: 'date of the change', ko: '이동일' },
    'Idempotency-Key': { ja: 'Idempotency-Key', en: 'Idempotency-Key', ko: 'Idempotency-Key' },
  },
  problem: {
    required: { ja: '必須です', en: 'required', ko: '필수입니다' },
    format: { ja: '形式が違います', en: 'wrong format', ko: '형식이 다릅니다' },
    value: { ja: '使えない値です', en: 'not an allowed value', ko: '사용할 수 없는 값입니다' },
    'too-long': { ja: '長すぎます', en: 'too long', ko: '너무 깁니다' },
    'too-short': { ja: '短すぎます', en: 'too short', ko: '너무 짧습니다' },
    type: { ja: '種類が違います', en: 'wrong type', ko: '종류가 다릅니다' },
    unknown: { ja: '登録されていません', en: 'unknown', ko: '등록되어 있지 않습니다' },
    'pin-format': { ja: 'パスワード（暗証番号）の規則に合いません', en: 'does not follow the password or PIN rules', ko: '비밀번호(PIN 번호) 규칙에 맞지 않습니다' },
    unexpected: { ja: '不要な項目です', en: 'not expected here', ko: '불필요한 항목입니다' },
  },
};

function fill(template: string, params: Record<string, string | number>, lang: Language): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => {
    const v = params[key];
    if (v === undefined) return whole;
    return VALUES[key]?.[String(v)]?.[lang] ?? String(v);
  });
}

/** The message for an error code in a language; undefined when the catalogue has no entry for it. */
export function translate(code: string, params: Record<string, string | number>, lang: Language): string | undefined {
  const entry = MESSAGES[code] ?? (code.startsWith('reader.') ? MESSAGES['reader.*'] : undefined);
  return entry && fill(entry[lang], params, lang);
}

export function hasMessage(code: string): boolean {
  return code in MESSAGES;
}

/**
 * The language of a reply: an explicit `?lang=`, else the operator's preference, else the first supported
 * language of Accept-Language, else Japanese.
 */
export function negotiateLanguage(o: { query?: string; operator?: Language; acceptLanguage?: string }): Language {
  if (isLanguage(o.query)) return o.query;
  if (o.operator) return o.operator;
  if (o.acceptLanguage) {
    const ranked = o.acceptLanguage
      .split(',')
      .map((part, i) => {
        const [tag, ...attrs] = part.trim().split(';');
        const q = attrs.map((a) => /^\s*q=([0-9.]+)\s*$/.exec(a)).find(Boolean);
        return { lang: tag!.trim().toLowerCase().split('-')[0]!, q: q ? Number(q[1]) : 1, i };
      })
      .filter((x) => x.q > 0)
      .sort((a, b) => b.q - a.q || a.i - b.i);
    for (const r of ranked) if (isLanguage(r.lang)) return r.lang;
  }
  return 'ja';
}
