/**
 * The viewer's words in the three languages (Japanese first), for everything the certificate itself decides:
 * field and extension names, the 基本 tab's labels. The pages' own words (tabs, buttons) are in
 * web/client/messages.ts; these travel with the certificate view because the list of fields is open-ended.
 */
export type Lang = 'ja' | 'en' | 'ko';
export const LANGS: readonly Lang[] = ['ja', 'en', 'ko'];

export interface Label {
  ja: string;
  en: string;
  ko: string;
}

const l = (ja: string, en: string, ko: string): Label => ({ ja, en, ko });

/** The 基本 tab, in the guide's order. */
export const BASIC_LABELS = {
  name: l('氏名', 'Name', '성명'),
  dateOfBirth: l('生年月日', 'Date of birth', '생년월일'),
  sex: l('性別', 'Sex', '성별'),
  address: l('住所', 'Address', '주소'),
  issuedOn: l('発行年月日', 'Issued on', '발행 연월일'),
  expiresOn: l('有効期間の満了日', 'Expires on', '유효기간 만료일'),
  issuer: l('発行者', 'Issuer', '발행자'),
} as const;

export type BasicField = keyof typeof BASIC_LABELS;
export const BASIC_FIELDS = Object.keys(BASIC_LABELS) as BasicField[];

export const SEX_LABELS: Record<string, Label> = {
  '1': l('男', 'Male (男)', '남 (男)'),
  '2': l('女', 'Female (女)', '여 (女)'),
  '3': l('不明', 'Unknown', '불명'),
  '9': l('適用不能', 'Not applicable', '해당 없음'),
};

export const FIELD_LABELS = {
  version: l('バージョン', 'Version', '버전'),
  serial: l('シリアル番号', 'Serial number', '일련번호'),
  signatureAlgorithm: l('署名アルゴリズム', 'Signature algorithm', '서명 알고리즘'),
  issuer: l('発行者', 'Issuer', '발행자'),
  notBefore: l('有効期間の開始', 'Valid from', '유효기간 시작'),
  notAfter: l('有効期間の満了', 'Valid until', '유효기간 만료'),
  subject: l('サブジェクト', 'Subject', '주체'),
  publicKey: l('公開鍵', 'Public key', '공개키'),
  fingerprintSha1: l('拇印 (SHA-1)', 'Fingerprint (SHA-1)', '지문 (SHA-1)'),
  fingerprintSha256: l('拇印 (SHA-256)', 'Fingerprint (SHA-256)', '지문 (SHA-256)'),
  critical: l('重要', 'critical', '중요'),
  extension: l('拡張', 'Extension', '확장'),
} as const;

/** Extensions by OID. */
export const EXTENSION_LABELS: Record<string, Label> = {
  '2.5.29.14': l('サブジェクト鍵識別子', 'Subject key identifier', '주체 키 식별자'),
  '2.5.29.15': l('鍵用途', 'Key usage', '키 용도'),
  '2.5.29.17': l('サブジェクト別名（基本4情報）', 'Subject alternative name (the four facts)', '주체 대체 이름 (기본 4정보)'),
  '2.5.29.18': l('発行者別名', 'Issuer alternative name', '발행자 대체 이름'),
  '2.5.29.19': l('基本制約', 'Basic constraints', '기본 제약'),
  '2.5.29.31': l('CRL配布点', 'CRL distribution points', 'CRL 배포 지점'),
  '2.5.29.32': l('証明書ポリシー', 'Certificate policies', '인증서 정책'),
  '2.5.29.33': l('ポリシーマッピング', 'Policy mappings', '정책 매핑'),
  '2.5.29.35': l('機関鍵識別子', 'Authority key identifier', '기관 키 식별자'),
  '2.5.29.37': l('拡張鍵用途', 'Extended key usage', '확장 키 용도'),
  '2.5.29.46': l('最新CRL（デルタCRL）', 'Freshest CRL (delta CRL)', '최신 CRL (델타 CRL)'),
  '1.3.6.1.5.5.7.1.1': l('機関情報アクセス', 'Authority information access', '기관 정보 접근'),
};

/** The six otherNames of the signing certificate (jpki-profile.md §1.1). */
export const OTHER_NAME_LABELS: Record<string, Label> = {
  '1.2.392.200149.8.5.5.1': l('氏名', 'Name', '성명'),
  '1.2.392.200149.8.5.5.2': l('氏名代替文字の使用位置情報', 'Substitute characters in the name', '성명 대체 문자 위치 정보'),
  '1.2.392.200149.8.5.5.3': l('性別', 'Sex', '성별'),
  '1.2.392.200149.8.5.5.4': l('生年月日', 'Date of birth', '생년월일'),
  '1.2.392.200149.8.5.5.5': l('住所', 'Address', '주소'),
  '1.2.392.200149.8.5.5.6': l('住所代替文字の使用位置情報', 'Substitute characters in the address', '주소 대체 문자 위치 정보'),
};

export const KEY_USAGE_LABELS: Record<string, Label> = {
  digitalSignature: l('デジタル署名', 'Digital signature', '디지털 서명'),
  nonRepudiation: l('否認防止', 'Non-repudiation', '부인 방지'),
  keyEncipherment: l('鍵暗号化', 'Key encipherment', '키 암호화'),
  dataEncipherment: l('データ暗号化', 'Data encipherment', '데이터 암호화'),
  keyAgreement: l('鍵共有', 'Key agreement', '키 합의'),
  keyCertSign: l('証明書署名', 'Certificate signing', '인증서 서명'),
  cRLSign: l('CRL署名', 'CRL signing', 'CRL 서명'),
  encipherOnly: l('暗号化のみ', 'Encipher only', '암호화 전용'),
  decipherOnly: l('復号のみ', 'Decipher only', '복호화 전용'),
};

/** Words inside decoded values. */
export const WORDS = {
  noSubstitutes: l('代替文字なし', 'no substitute characters', '대체 문자 없음'),
  substitutesAt: l('{positions}文字目が代替文字', 'characters {positions} are substitutes', '{positions}번째 문자가 대체 문자'),
  yes: l('はい', 'yes', '예'),
  no: l('いいえ', 'no', '아니요'),
  ca: l('認証局', 'CA', '인증국'),
  endEntity: l('エンドエンティティ', 'end entity', '최종 개체'),
  pathLength: l('パス長制約 {n}', 'path length {n}', '경로 길이 {n}'),
  bits: l('{n}ビット', '{n} bits', '{n}비트'),
  ocsp: l('OCSP', 'OCSP', 'OCSP'),
  caIssuers: l('CA証明書', 'CA issuers', 'CA 인증서'),
  eraCode: l('元号コード{code}（{era}）', 'era code {code} ({era})', '연호 코드 {code} ({era})'),
} as const;

export function fillLabel(label: Label, params: Record<string, string | number>): Label {
  const f = (s: string) => s.replace(/\{(\w+)\}/g, (w, k: string) => (params[k] === undefined ? w : String(params[k])));
  return { ja: f(label.ja), en: f(label.en), ko: f(label.ko) };
}

/** The same text in every language (names, numbers, URLs). */
export function same(text: string): Label {
  return { ja: text, en: text, ko: text };
}
