import { inflateSync } from 'node:zlib';

/**
 * The text of a PDF as Chromium's print-to-PDF (Skia) writes it, enough to check that a printed paper
 * carries the fingerprints and the era dates: objects with Flate streams, fonts with ToUnicode CMaps, text
 * shown by Tj/TJ/'/" in each page's content stream. Not a general PDF reader (no object streams, no
 * encryption, no standard encodings): Skia writes none of those. Runs are joined by newlines at each text
 * positioning operator, so callers compare with whitespace removed.
 */
interface PdfObject {
  dict: string;
  stream?: Buffer;
}

function parseObjects(pdf: Buffer): Map<number, PdfObject> {
  const text = pdf.toString('latin1');
  const objects = new Map<number, PdfObject>();
  const header = /(\d+) 0 obj\s*/g;
  let m: RegExpExecArray | null;
  while ((m = header.exec(text))) {
    const start = m.index + m[0].length;
    const end = text.indexOf('endobj', start);
    if (end < 0) break;
    const body = text.slice(start, end);
    const s = body.indexOf('stream');
    if (s < 0) {
      objects.set(Number(m[1]), { dict: body });
    } else {
      const dict = body.slice(0, s);
      let dataStart = start + s + 'stream'.length;
      if (text[dataStart] === '\r') dataStart++;
      if (text[dataStart] === '\n') dataStart++;
      const length = /\/Length (\d+)(?!\s+\d+\s+R)/.exec(dict);
      const dataEnd = length ? dataStart + Number(length[1]) : text.indexOf('endstream', dataStart);
      let data = pdf.subarray(dataStart, dataEnd);
      if (/\/Filter\s*\/FlateDecode/.test(dict)) data = inflateSync(data);
      objects.set(Number(m[1]), { dict, stream: data });
    }
    header.lastIndex = end;
  }
  return objects;
}

interface ToUnicode {
  bytes: number;
  map: Map<number, string>;
}

function hexToString(hex: string): string {
  const units: number[] = [];
  for (let i = 0; i + 4 <= hex.length; i += 4) units.push(Number.parseInt(hex.slice(i, i + 4), 16));
  if (hex.length === 2) units.push(Number.parseInt(hex, 16));
  return String.fromCharCode(...units);
}

function parseCMap(cmap: string): ToUnicode {
  const map = new Map<number, string>();
  const space = /begincodespacerange\s*<([0-9a-fA-F]+)>/.exec(cmap);
  const bytes = space ? space[1]!.length / 2 : 1;
  for (const block of cmap.matchAll(/beginbfchar([\s\S]*?)endbfchar/g)) {
    for (const [, src, dst] of block[1]!.matchAll(/<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>/g)) map.set(Number.parseInt(src!, 16), hexToString(dst!));
  }
  for (const block of cmap.matchAll(/beginbfrange([\s\S]*?)endbfrange/g)) {
    for (const [, lo, hi, rest] of block[1]!.matchAll(/<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*(\[[^\]]*\]|<[0-9a-fA-F]+>)/g)) {
      const from = Number.parseInt(lo!, 16);
      const to = Number.parseInt(hi!, 16);
      if (rest!.startsWith('[')) {
        [...rest!.matchAll(/<([0-9a-fA-F]+)>/g)].forEach(([, d], i) => map.set(from + i, hexToString(d!)));
      } else {
        const base = hexToString(rest!.slice(1, -1));
        const last = base.charCodeAt(base.length - 1);
        for (let c = from; c <= to; c++) map.set(c, base.slice(0, -1) + String.fromCharCode(last + (c - from)));
      }
    }
  }
  return { bytes, map };
}

function ref(dict: string, key: string): number | undefined {
  const m = new RegExp(`/${key}\\s+(\\d+)\\s+0\\s+R`).exec(dict);
  return m ? Number(m[1]) : undefined;
}

/** The bytes of a PDF string token: `<hex>` or `(literal)` with its escapes. */
function stringBytes(token: string): number[] {
  if (token.startsWith('<')) {
    const hex = token.slice(1, -1).replace(/\s+/g, '');
    const out: number[] = [];
    for (let i = 0; i < hex.length; i += 2) out.push(Number.parseInt(hex.slice(i, i + 2).padEnd(2, '0'), 16));
    return out;
  }
  const out: number[] = [];
  const s = token.slice(1, -1);
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\') {
      out.push(c.charCodeAt(0));
      continue;
    }
    const n = s[++i]!;
    const simple: Record<string, number> = { n: 10, r: 13, t: 9, b: 8, f: 12, '(': 40, ')': 41, '\\': 92 };
    if (n in simple) out.push(simple[n]!);
    else if (/[0-7]/.test(n)) {
      let oct = n;
      while (oct.length < 3 && /[0-7]/.test(s[i + 1] ?? '')) oct += s[++i];
      out.push(Number.parseInt(oct, 8));
    }
  }
  return out;
}

function decode(bytes: number[], font: ToUnicode | undefined): string {
  if (!font) return String.fromCharCode(...bytes);
  let out = '';
  for (let i = 0; i + font.bytes <= bytes.length; i += font.bytes) {
    let code = 0;
    for (let j = 0; j < font.bytes; j++) code = (code << 8) | bytes[i + j]!;
    out += font.map.get(code) ?? '';
  }
  return out;
}

const TOKEN = /<[0-9a-fA-F\s]*>|\((?:\\.|[^\\)])*\)|\[|\]|\/[^\s/\[\]()<>]+|[^\s/\[\]()<>]+/g;

/** The text of every page, in order. */
export function pdfText(pdf: Buffer): string {
  const objects = parseObjects(pdf);
  const fontCache = new Map<number, ToUnicode | undefined>();
  const fontOf = (id: number): ToUnicode | undefined => {
    if (!fontCache.has(id)) {
      const f = objects.get(id);
      const tu = f ? ref(f.dict, 'ToUnicode') : undefined;
      const cmap = tu !== undefined ? objects.get(tu)?.stream : undefined;
      fontCache.set(id, cmap ? parseCMap(cmap.toString('latin1')) : undefined);
    }
    return fontCache.get(id);
  };
  const pages = [...objects.entries()].filter(([, o]) => /\/Type\s*\/Page(?!s)/.test(o.dict)).sort(([a], [b]) => a - b);
  const texts: string[] = [];
  for (const [, page] of pages) {
    let resources = page.dict;
    const resRef = ref(page.dict, 'Resources');
    if (resRef !== undefined) resources = objects.get(resRef)?.dict ?? '';
    const fonts = new Map<string, number>();
    const fontDict = /\/Font\s*<<([\s\S]*?)>>/.exec(resources);
    for (const [, name, id] of (fontDict?.[1] ?? '').matchAll(/\/(\S+?)\s+(\d+)\s+0\s+R/g)) fonts.set(name!, Number(id));
    const contents = [...(/\/Contents\s*\[([^\]]*)\]/.exec(page.dict)?.[1] ?? String(ref(page.dict, 'Contents') ?? '')).matchAll(/(\d+)(?:\s+0\s+R)?/g)].map((x) => Number(x[1]));
    let out = '';
    for (const c of contents) {
      const stream = objects.get(c)?.stream?.toString('latin1') ?? '';
      let font: ToUnicode | undefined;
      const operands: string[] = [];
      for (const [token] of stream.matchAll(TOKEN)) {
        if (/^[A-Za-z'"*]+$/.test(token) && !token.startsWith('/')) {
          if (token === 'Tf') font = fontOf(fonts.get(operands[0]?.slice(1) ?? '') ?? -1);
          else if (token === 'Tj' || token === "'" || token === '"') out += decode(stringBytes(operands[operands.length - 1] ?? '()'), font);
          else if (token === 'TJ') for (const s of operands.filter((o) => o.startsWith('<') || o.startsWith('('))) out += decode(stringBytes(s), font);
          else if (['Td', 'TD', 'Tm', 'T*', 'ET'].includes(token)) out += '\n';
          operands.length = 0;
        } else operands.push(token);
      }
    }
    texts.push(out);
  }
  return texts.join('\n\f\n');
}

/**
 * For comparisons that must not depend on where the PDF broke lines or which code points a font's
 * ToUnicode chose: Noto CJK maps some ideographs to their Kangxi radicals (⽉ U+2F49 for 月), which NFKC
 * folds back. Apply to both sides.
 */
export function comparable(s: string): string {
  return s.normalize('NFKC').replace(/\s+/g, '');
}
