import { JsonNumber, JsonObject, JsonValue, pythonFloatRepr } from '@app/contracts/json';

// Prefect decodes bodies with Python's json.loads (C scanner). This decoder
// accepts what it accepts (NaN, Infinity, lone surrogates, duplicate keys:
// last value wins) and fails with its messages and code-point positions,
// because both end up in the 422 `json_invalid` item.

/** Python's json.JSONDecodeError: `msg` without the position suffix, `pos` in code points. */
export class PythonJsonDecodeError extends Error {
  constructor(
    readonly msg: string,
    readonly pos: number,
  ) {
    super(msg);
  }
}

/** A failure Python raises as another exception (RecursionError, the 4300-digit int limit): FastAPI answers 400. */
export class PythonJsonValueError extends Error {}

// CPython's C scanner hits the recursion limit at about this depth.
const MAX_DEPTH = 1000;
const MAX_INT_DIGITS = 4300;

export function pythonJsonLoads(text: string): JsonValue {
  const d = new Decoder(text);
  const start = d.skipWs(0);
  const [value, end] = d.scanOnce(start, 0);
  const after = d.skipWs(end);
  if (after !== text.length) d.fail('Extra data', after);
  return value;
}

// Thrown on every number and string scanned; an Error's stack trace would cost more than the parse.
class StopIteration {
  constructor(readonly idx: number) {}
}

class Decoder {
  constructor(private readonly s: string) {}

  fail(msg: string, idx: number): never {
    throw new PythonJsonDecodeError(msg, codePointIndex(this.s, idx));
  }

  skipWs(idx: number): number {
    const s = this.s;
    for (;;) {
      const c = s.charCodeAt(idx);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) idx++;
      else return idx;
    }
  }

  scanOnce(idx: number, depth: number): [JsonValue, number] {
    try {
      return this.value(idx, depth);
    } catch (e) {
      if (e instanceof StopIteration) this.fail('Expecting value', e.idx);
      throw e;
    }
  }

  private value(idx: number, depth: number): [JsonValue, number] {
    const s = this.s;
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- StopIteration is stackless on purpose (above)
    if (idx >= s.length) throw new StopIteration(idx);
    switch (s[idx]) {
      case '"':
        return this.string(idx + 1);
      case '{':
        return this.object(idx + 1, depth + 1);
      case '[':
        return this.array(idx + 1, depth + 1);
      case 'n':
        if (s.startsWith('null', idx)) return [null, idx + 4];
        break;
      case 't':
        if (s.startsWith('true', idx)) return [true, idx + 4];
        break;
      case 'f':
        if (s.startsWith('false', idx)) return [false, idx + 5];
        break;
      case 'N':
        if (s.startsWith('NaN', idx)) return [new JsonNumber('NaN', true), idx + 3];
        break;
      case 'I':
        if (s.startsWith('Infinity', idx)) return [new JsonNumber('Infinity', true), idx + 8];
        break;
      case '-':
        if (s.startsWith('-Infinity', idx)) return [new JsonNumber('-Infinity', true), idx + 9];
        break;
    }
    return this.number(idx);
  }

  private number(start: number): [JsonValue, number] {
    const s = this.s;
    const digit = (i: number) => {
      const c = s.charCodeAt(i);
      return c >= 0x30 && c <= 0x39;
    };
    let idx = start;
    if (s[idx] === '-') idx++;
    if (idx < s.length && s[idx] !== '0' && digit(idx)) {
      idx++;
      while (digit(idx)) idx++;
    } else if (s[idx] === '0') {
      idx++;
    } else {
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- StopIteration is stackless on purpose (above)
      throw new StopIteration(start);
    }
    let isFloat = false;
    if (s[idx] === '.' && digit(idx + 1)) {
      isFloat = true;
      idx += 2;
      while (digit(idx)) idx++;
    }
    if (s[idx] === 'e' || s[idx] === 'E') {
      const eStart = idx;
      idx++;
      if (s[idx] === '-' || s[idx] === '+') idx++;
      while (digit(idx)) idx++;
      if (digit(idx - 1)) isFloat = true;
      else idx = eStart;
    }
    const raw = s.slice(start, idx);
    if (!isFloat && raw.replace('-', '').length > MAX_INT_DIGITS) {
      throw new PythonJsonValueError('Exceeds the limit (4300 digits) for integer string conversion');
    }
    return [new JsonNumber(raw, isFloat), idx];
  }

  private object(idx: number, depth: number): [JsonValue, number] {
    if (depth >= MAX_DEPTH) throw new PythonJsonValueError('maximum recursion depth exceeded while decoding a JSON object');
    const s = this.s;
    const map: JsonObject = new Map();
    idx = this.skipWs(idx);
    if (s[idx] === '}') return [map, idx + 1];
    for (;;) {
      if (s[idx] !== '"') this.fail('Expecting property name enclosed in double quotes', idx);
      const [key, afterKey] = this.string(idx + 1);
      idx = this.skipWs(afterKey);
      if (s[idx] !== ':') this.fail("Expecting ':' delimiter", idx);
      idx = this.skipWs(idx + 1);
      const [value, afterValue] = this.value(idx, depth);
      map.set(key, value);
      idx = this.skipWs(afterValue);
      if (s[idx] === '}') return [map, idx + 1];
      if (s[idx] !== ',') this.fail("Expecting ',' delimiter", idx);
      idx = this.skipWs(idx + 1);
    }
  }

  private array(idx: number, depth: number): [JsonValue, number] {
    if (depth >= MAX_DEPTH) throw new PythonJsonValueError('maximum recursion depth exceeded while decoding a JSON array');
    const s = this.s;
    const items: JsonValue[] = [];
    idx = this.skipWs(idx);
    if (s[idx] === ']') return [items, idx + 1];
    for (;;) {
      const [value, afterValue] = this.value(idx, depth);
      items.push(value);
      idx = this.skipWs(afterValue);
      if (s[idx] === ']') return [items, idx + 1];
      if (s[idx] !== ',') this.fail("Expecting ',' delimiter", idx);
      idx = this.skipWs(idx + 1);
    }
  }

  /** CPython's scanstring_unicode; `end` is just after the opening quote. */
  private string(end: number): [string, number] {
    const s = this.s;
    const len = s.length;
    const begin = end - 1;
    let out = '';
    for (;;) {
      let next = end;
      let c = -1;
      for (; next < len; next++) {
        c = s.charCodeAt(next);
        if (c === 0x22 || c === 0x5c) break;
        if (c <= 0x1f) this.fail('Invalid control character at', next);
      }
      if (next >= len) this.fail('Unterminated string starting at', begin);
      out += s.slice(end, next);
      next++;
      if (c === 0x22) return [out, next];
      if (next === len) this.fail('Unterminated string starting at', begin);
      const esc = s[next];
      if (esc !== 'u') {
        end = next + 1;
        const simple = SIMPLE_ESCAPES[esc as string];
        if (simple === undefined) this.fail('Invalid \\escape', end - 2);
        out += simple;
        continue;
      }
      next++;
      end = next + 4;
      if (end >= len) this.fail('Invalid \\uXXXX escape', next - 1);
      const unit = hex4(s, next);
      if (unit < 0) this.fail('Invalid \\uXXXX escape', end - 5);
      if (unit >= 0xd800 && unit <= 0xdbff && end + 6 < len && s[end] === '\\' && s[end + 1] === 'u') {
        const low = hex4(s, end + 2);
        if (low < 0) this.fail('Invalid \\uXXXX escape', end + 1);
        if (low >= 0xdc00 && low <= 0xdfff) {
          out += String.fromCharCode(unit, low);
          end += 6;
          continue;
        }
      }
      out += String.fromCharCode(unit);
    }
  }
}

const SIMPLE_ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

function hex4(s: string, at: number): number {
  const text = s.slice(at, at + 4);
  return /^[0-9a-fA-F]{4}$/.test(text) ? parseInt(text, 16) : -1;
}

function codePointIndex(s: string, utf16Index: number): number {
  let n = 0;
  for (let i = 0; i < utf16Index && i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < utf16Index) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n + Math.max(0, utf16Index - s.length);
}

/**
 * Python's `json.dumps(value, ensure_ascii=False, separators=(",", ":"))`, as
 * Prefect's JSONResponse writes request echoes: ints exact, floats as
 * repr(float) (non-finite ones, which Python would refuse, as null).
 * Unlike canonicalJson it takes any depth the decoder accepted.
 */
export function pythonJsonDumps(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return Number.isInteger(value) ? String(value) : Number.isFinite(value) ? pythonFloatRepr(value) : 'null';
    case 'object':
      break;
    default:
      return 'null';
  }
  if (value instanceof JsonNumber) {
    if (!value.isFloat) return BigInt(value.raw).toString();
    const x = Number(value.raw);
    return Number.isFinite(x) ? pythonFloatRepr(x) : 'null';
  }
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(',')}]`;
  const entries: Iterable<[string, unknown]> = value instanceof Map ? value : Object.entries(value);
  const parts: string[] = [];
  for (const [k, v] of entries) parts.push(`${JSON.stringify(k)}:${pythonJsonDumps(v)}`);
  return `{${parts.join(',')}}`;
}
