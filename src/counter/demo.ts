import type { NewResident, ResidentRegister } from '../register/index.js';
import type { Counter } from './counter.js';
import type { OperatorRole } from '../store/index.js';

/**
 * The demo register `jpki serve` seeds into an empty data directory (`--no-demo` turns it off): the guide's
 * example resident first, a few residents of other municipalities, one operator per municipality (and a
 * supervisor at 港区), and one key-pair generation device per municipality. The password is public on
 * purpose: it is printed at start-up and in docs/counter.md.
 */
export const DEMO_PASSWORD = 'demo-counter-2004';

export const DEMO_RESIDENTS: readonly NewResident[] = [
  // The guide's certificate viewer (system.md §3): 公的 一郎, 昭和52年11月7日, 男, 東京都港区虎ノ門5丁目.
  { name: '公的　一郎', dateOfBirth: '1977-11-07', sex: '1', address: '東京都港区虎ノ門5丁目', municipality: '13103' },
  { name: '公的　花子', dateOfBirth: '1979-04-01', sex: '2', address: '東京都港区虎ノ門5丁目', municipality: '13103' },
  { name: '認証　花子', dateOfBirth: '1985-06-20', sex: '2', address: '東京都清瀬市中清戸5丁目', municipality: '13221' },
  // 平成元年: the first day of an era, written 元年.
  { name: '大阪　太郎', dateOfBirth: '1989-01-08', sex: '1', address: '大阪府大阪市中央区大手前2丁目', municipality: '27128' },
  { name: '琉球　美咲', dateOfBirth: '2001-05-01', sex: '2', address: '沖縄県那覇市泉崎1丁目', municipality: '47201' },
];

export const DEMO_OPERATORS: readonly { name: string; municipality: string; role: OperatorRole }[] = [
  { name: 'minato-clerk', municipality: '13103', role: 'clerk' },
  { name: 'minato-supervisor', municipality: '13103', role: 'supervisor' },
  { name: 'kiyose-clerk', municipality: '13221', role: 'clerk' },
  { name: 'osaka-chuo-clerk', municipality: '27128', role: 'clerk' },
  { name: 'naha-clerk', municipality: '47201', role: 'clerk' },
];

export interface DemoSeed {
  residents: { id: string; name: string; municipality: string }[];
  operators: { name: string; municipality: string; role: OperatorRole }[];
  devices: { id: string; municipality: string; uri: string }[];
  password: string;
}

/** True when the register and the counter are empty (a fresh data directory). */
export async function isEmptyCounter(register: Pick<ResidentRegister, 'count'>, counter: Pick<Counter, 'operators'>): Promise<boolean> {
  return (await register.count()) === 0 && (await counter.operators.count()) === 0;
}

/**
 * Seeds the demo data. `deviceUri(municipality)` says where each municipality's device finds its card (the
 * caller makes a blank card there). Everything is audited as `demo`.
 */
export async function seedDemo(register: ResidentRegister, counter: Counter, deviceUri: (municipality: string) => string): Promise<DemoSeed> {
  const residents = await register.addAll(DEMO_RESIDENTS, 'demo');
  // all at once: each password's scrypt runs on the thread pool, so the five share the cores
  await Promise.all(DEMO_OPERATORS.map((o) => counter.operators.add({ ...o, password: DEMO_PASSWORD }, 'demo')));
  const devices: DemoSeed['devices'] = [];
  for (const m of [...new Set(DEMO_OPERATORS.map((o) => o.municipality))]) {
    const d = await counter.addDevice({ municipality: m, name: '鍵ペア生成装置 1', uri: deviceUri(m) }, 'demo');
    devices.push({ id: d.id, municipality: d.municipality, uri: d.uri });
  }
  return {
    residents: residents.map((r) => ({ id: r.id, name: r.name, municipality: r.municipality })),
    operators: DEMO_OPERATORS.map((o) => ({ ...o })),
    devices,
    password: DEMO_PASSWORD,
  };
}
