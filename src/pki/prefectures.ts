/**
 * The 47 prefectures by JIS X 0401 code: the Japanese name, the governor who runs the prefectural CA
 * (都道府県知事), and the romanised name used in distinguished names.
 */
export interface Prefecture {
  code: string;
  name: string;
  governor: string;
  romaji: string;
}

const TABLE: [string, string, string][] = [
  ['01', '北海道', 'Hokkaido'],
  ['02', '青森県', 'Aomori-ken'],
  ['03', '岩手県', 'Iwate-ken'],
  ['04', '宮城県', 'Miyagi-ken'],
  ['05', '秋田県', 'Akita-ken'],
  ['06', '山形県', 'Yamagata-ken'],
  ['07', '福島県', 'Fukushima-ken'],
  ['08', '茨城県', 'Ibaraki-ken'],
  ['09', '栃木県', 'Tochigi-ken'],
  ['10', '群馬県', 'Gunma-ken'],
  ['11', '埼玉県', 'Saitama-ken'],
  ['12', '千葉県', 'Chiba-ken'],
  ['13', '東京都', 'Tokyo-to'],
  ['14', '神奈川県', 'Kanagawa-ken'],
  ['15', '新潟県', 'Niigata-ken'],
  ['16', '富山県', 'Toyama-ken'],
  ['17', '石川県', 'Ishikawa-ken'],
  ['18', '福井県', 'Fukui-ken'],
  ['19', '山梨県', 'Yamanashi-ken'],
  ['20', '長野県', 'Nagano-ken'],
  ['21', '岐阜県', 'Gifu-ken'],
  ['22', '静岡県', 'Shizuoka-ken'],
  ['23', '愛知県', 'Aichi-ken'],
  ['24', '三重県', 'Mie-ken'],
  ['25', '滋賀県', 'Shiga-ken'],
  ['26', '京都府', 'Kyoto-fu'],
  ['27', '大阪府', 'Osaka-fu'],
  ['28', '兵庫県', 'Hyogo-ken'],
  ['29', '奈良県', 'Nara-ken'],
  ['30', '和歌山県', 'Wakayama-ken'],
  ['31', '鳥取県', 'Tottori-ken'],
  ['32', '島根県', 'Shimane-ken'],
  ['33', '岡山県', 'Okayama-ken'],
  ['34', '広島県', 'Hiroshima-ken'],
  ['35', '山口県', 'Yamaguchi-ken'],
  ['36', '徳島県', 'Tokushima-ken'],
  ['37', '香川県', 'Kagawa-ken'],
  ['38', '愛媛県', 'Ehime-ken'],
  ['39', '高知県', 'Kochi-ken'],
  ['40', '福岡県', 'Fukuoka-ken'],
  ['41', '佐賀県', 'Saga-ken'],
  ['42', '長崎県', 'Nagasaki-ken'],
  ['43', '熊本県', 'Kumamoto-ken'],
  ['44', '大分県', 'Oita-ken'],
  ['45', '宮崎県', 'Miyazaki-ken'],
  ['46', '鹿児島県', 'Kagoshima-ken'],
  ['47', '沖縄県', 'Okinawa-ken'],
];

export const PREFECTURES: readonly Prefecture[] = TABLE.map(([code, name, romaji]) => ({ code, name, governor: `${name}知事`, romaji }));

/** The prefecture for a JIS code ('13', or 13), or undefined. */
export function prefectureByCode(code: string | number): Prefecture | undefined {
  const c = typeof code === 'number' ? String(code).padStart(2, '0') : code.length === 1 ? `0${code}` : code;
  return PREFECTURES.find((p) => p.code === c);
}

/** The prefecture an address starts with (addresses in the register start at the prefecture). */
export function prefectureOfAddress(address: string): Prefecture | undefined {
  return PREFECTURES.find((p) => address.startsWith(p.name));
}
