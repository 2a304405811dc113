import { prefectureByCode, type Prefecture } from '../pki/prefectures.js';

/**
 * The municipalities the register knows, by JIS X 0402 local-government code (5 digits, without the check
 * digit): Tokyo's 23 special wards and a few cities elsewhere. `nameEn` is the romanised name the signing
 * certificate's subject carries as its second L= (jpki-profile.md §1.2, e.g. Kiyose-shi). In a designated
 * city the ward is the municipality residents deal with, so Osaka's Chūō ward is listed as such.
 */
export interface Municipality {
  code: string;
  prefecture: string;
  name: string;
  nameEn: string;
}

const TABLE: [string, string, string][] = [
  ['13101', '千代田区', 'Chiyoda-ku'],
  ['13102', '中央区', 'Chuo-ku'],
  ['13103', '港区', 'Minato-ku'],
  ['13104', '新宿区', 'Shinjuku-ku'],
  ['13105', '文京区', 'Bunkyo-ku'],
  ['13106', '台東区', 'Taito-ku'],
  ['13107', '墨田区', 'Sumida-ku'],
  ['13108', '江東区', 'Koto-ku'],
  ['13109', '品川区', 'Shinagawa-ku'],
  ['13110', '目黒区', 'Meguro-ku'],
  ['13111', '大田区', 'Ota-ku'],
  ['13112', '世田谷区', 'Setagaya-ku'],
  ['13113', '渋谷区', 'Shibuya-ku'],
  ['13114', '中野区', 'Nakano-ku'],
  ['13115', '杉並区', 'Suginami-ku'],
  ['13116', '豊島区', 'Toshima-ku'],
  ['13117', '北区', 'Kita-ku'],
  ['13118', '荒川区', 'Arakawa-ku'],
  ['13119', '板橋区', 'Itabashi-ku'],
  ['13120', '練馬区', 'Nerima-ku'],
  ['13121', '足立区', 'Adachi-ku'],
  ['13122', '葛飾区', 'Katsushika-ku'],
  ['13123', '江戸川区', 'Edogawa-ku'],
  ['13201', '八王子市', 'Hachioji-shi'],
  ['13221', '清瀬市', 'Kiyose-shi'],
  ['13229', '西東京市', 'Nishitokyo-shi'],
  ['01202', '函館市', 'Hakodate-shi'],
  ['14204', '鎌倉市', 'Kamakura-shi'],
  ['23201', '豊橋市', 'Toyohashi-shi'],
  ['27128', '大阪市中央区', 'Osaka-shi Chuo-ku'],
  ['27203', '豊中市', 'Toyonaka-shi'],
  ['47201', '那覇市', 'Naha-shi'],
];

export const MUNICIPALITIES: readonly Municipality[] = TABLE.map(([code, name, nameEn]) => ({ code, prefecture: code.slice(0, 2), name, nameEn }));

export function municipalityByCode(code: string): Municipality | undefined {
  return MUNICIPALITIES.find((m) => m.code === code);
}

export function prefectureOf(m: Municipality): Prefecture {
  return prefectureByCode(m.prefecture)!;
}

/** 東京都港区 — how an address in the municipality must begin. */
export function addressPrefix(m: Municipality): string {
  return `${prefectureOf(m).name}${m.name}`;
}
