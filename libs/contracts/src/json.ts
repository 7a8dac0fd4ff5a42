// A small lossless JSON codec. We do not use JSON.parse (loses 1 vs 1.0 and big
// integers) nor lossless-json (throws on duplicate keys, reorders integer-like
// keys, rejects NaN/Infinity, overflows the stack on deep nesting): Prefect parses
// with Python's json module, which does none of that.

/** A JSON number kept as its source text; `isFloat` is true when it has a fraction or exponent (Python float). */
export class JsonNumber {
  constructor(
    readonly raw: string,
    readonly isFloat: boolean,
  ) {}

  valueOf(): number {
    return Number(this.raw);
  }

  toString(): string {
    return this.raw;
  }
}

/** Objects are Maps: insertion order kept (also for integer-like keys), a duplicate key keeps its first position and its last value, like a Python dict. */
export type JsonObject = Map<string, JsonValue>;
export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | JsonObject;

export const MAX_JSON_DEPTH = 512;

export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(`${message} at position ${position}`);
    this.name = 'JsonSyntaxError';
  }
}

/** Parses JSON as Python's json.loads does (NaN, Infinity, -Infinity accepted), keeping numbers lossless. Throws JsonSyntaxError. */
export function parseJson(text: string): JsonValue {
  const parser = new Parser(text);
  parser.skipWhitespace();
  const value = parser.value(0);
  parser.skipWhitespace();
  if (parser.pos !== text.length) parser.fail('unexpected data after the JSON value');
  return value;
}

class Parser {
  pos = 0;

  constructor(private readonly s: string) {}

  fail(message: string): never {
    throw new JsonSyntaxError(message, this.pos);
  }

  skipWhitespace(): void {
    const s = this.s;
    let c = s.charCodeAt(this.pos);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = s.charCodeAt(++this.pos);
  }

  value(depth: number): JsonValue {
    const c = this.s.charCodeAt(this.pos);
    switch (c) {
      case 0x7b:
        return this.object(depth + 1);
      case 0x5b:
        return this.array(depth + 1);
      case 0x22:
        return this.string();
      case 0x74:
        return this.literal('true', true);
      case 0x66:
        return this.literal('false', false);
      case 0x6e:
        return this.literal('null', null);
      case 0x4e:
        return this.literal('NaN', new JsonNumber('NaN', true));
      case 0x49:
        return this.literal('Infinity', new JsonNumber('Infinity', true));
      case 0x2d:
        if (this.s.charCodeAt(this.pos + 1) === 0x49) {
          this.pos++;
          return this.literal('Infinity', new JsonNumber('-Infinity', true));
        }
        return this.number();
      default:
        if (c >= 0x30 && c <= 0x39) return this.number();
        return this.fail(Number.isNaN(c) ? 'unexpected end of input' : 'expected a JSON value');
    }
  }

  private literal<T extends JsonValue>(word: string, result: T): T {
    if (!this.s.startsWith(word, this.pos)) this.fail('invalid literal');
    this.pos += word.length;
    return result;
  }

  private object(depth: number): JsonObject {
    if (depth > MAX_JSON_DEPTH) this.fail(`nesting deeper than ${MAX_JSON_DEPTH} levels`);
    const s = this.s;
    const map: JsonObject = new Map();
    this.pos++;
    this.skipWhitespace();
    if (s.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      return map;
    }
    for (;;) {
      if (s.charCodeAt(this.pos) !== 0x22) this.fail('expected a property name in double quotes');
      const key = this.string();
      this.skipWhitespace();
      if (s.charCodeAt(this.pos) !== 0x3a) this.fail("expected ':'");
      this.pos++;
      this.skipWhitespace();
      map.set(key, this.value(depth));
      this.skipWhitespace();
      const c = s.charCodeAt(this.pos);
      if (c === 0x2c) {
        this.pos++;
        this.skipWhitespace();
      } else if (c === 0x7d) {
        this.pos++;
        return map;
      } else {
        this.fail("expected ',' or '}'");
      }
    }
  }

  private array(depth: number): JsonValue[] {
    if (depth > MAX_JSON_DEPTH) this.fail(`nesting deeper than ${MAX_JSON_DEPTH} levels`);
    const s = this.s;
    const items: JsonValue[] = [];
    this.pos++;
    this.skipWhitespace();
    if (s.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      return items;
    }
    for (;;) {
      items.push(this.value(depth));
      this.skipWhitespace();
      const c = s.charCodeAt(this.pos);
      if (c === 0x2c) {
        this.pos++;
        this.skipWhitespace();
      } else if (c === 0x5d) {
        this.pos++;
        return items;
      } else {
        this.fail("expected ',' or ']'");
      }
    }
  }

  private string(): string {
    const s = this.s;
    const start = ++this.pos;
    for (;;) {
      const c = s.charCodeAt(this.pos);
      if (c === 0x22) return s.slice(start, this.pos++);
      if (c === 0x5c) return this.escapedString(start);
      // One comparison per character for both: past the end charCodeAt gives NaN, which fails `>=` too.
      if (!(c >= 0x20)) this.fail(c < 0x20 ? 'invalid control character in string' : 'unterminated string');
      this.pos++;
    }
  }

  private escapedString(start: number): string {
    const s = this.s;
    let out = s.slice(start, this.pos);
    let chunk = this.pos;
    for (;;) {
      const c = s.charCodeAt(this.pos);
      if (c === 0x22) {
        out += s.slice(chunk, this.pos++);
        return out;
      }
      if (c === 0x5c) {
        out += s.slice(chunk, this.pos);
        out += this.escape();
        chunk = this.pos;
        continue;
      }
      // One comparison per character for both: past the end charCodeAt gives NaN, which fails `>=` too.
      if (!(c >= 0x20)) this.fail(c < 0x20 ? 'invalid control character in string' : 'unterminated string');
      this.pos++;
    }
  }

  private escape(): string {
    const e = this.s.charCodeAt(this.pos + 1);
    this.pos += 2;
    switch (e) {
      case 0x22:
        return '"';
      case 0x5c:
        return '\\';
      case 0x2f:
        return '/';
      case 0x62:
        return '\b';
      case 0x66:
        return '\f';
      case 0x6e:
        return '\n';
      case 0x72:
        return '\r';
      case 0x74:
        return '\t';
      case 0x75: {
        const unit = this.hex4();
        // Lone surrogates are refused: PostgreSQL's jsonb and UTF-8 text cannot hold them.
        if (unit >= 0xdc00 && unit <= 0xdfff) this.fail('lone surrogate in \\u escape');
        if (unit >= 0xd800 && unit <= 0xdbff) {
          if (this.s.charCodeAt(this.pos) !== 0x5c || this.s.charCodeAt(this.pos + 1) !== 0x75) this.fail('lone surrogate in \\u escape');
          this.pos += 2;
          const low = this.hex4();
          if (low < 0xdc00 || low > 0xdfff) this.fail('lone surrogate in \\u escape');
          return String.fromCharCode(unit, low);
        }
        return String.fromCharCode(unit);
      }
      default:
        this.pos -= 1;
        return this.fail('invalid escape');
    }
  }

  private hex4(): number {
    const text = this.s.slice(this.pos, this.pos + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(text)) this.fail('invalid \\u escape');
    this.pos += 4;
    return parseInt(text, 16);
  }

  private number(): JsonNumber {
    const s = this.s;
    const start = this.pos;
    let isFloat = false;
    if (s.charCodeAt(this.pos) === 0x2d) this.pos++;
    let c = s.charCodeAt(this.pos);
    if (c === 0x30) {
      c = s.charCodeAt(++this.pos);
    } else if (c >= 0x31 && c <= 0x39) {
      do c = s.charCodeAt(++this.pos);
      while (c >= 0x30 && c <= 0x39);
    } else {
      this.fail('invalid number');
    }
    if (c === 0x2e) {
      isFloat = true;
      c = s.charCodeAt(++this.pos);
      if (!(c >= 0x30 && c <= 0x39)) this.fail('invalid number');
      do c = s.charCodeAt(++this.pos);
      while (c >= 0x30 && c <= 0x39);
    }
    if (c === 0x65 || c === 0x45) {
      isFloat = true;
      c = s.charCodeAt(++this.pos);
      if (c === 0x2b || c === 0x2d) c = s.charCodeAt(++this.pos);
      if (!(c >= 0x30 && c <= 0x39)) this.fail('invalid number');
      do c = s.charCodeAt(++this.pos);
      while (c >= 0x30 && c <= 0x39);
    }
    return new JsonNumber(s.slice(start, this.pos), isFloat);
  }
}

/** Python's repr(float): shortest round-trip digits, exponent form when the exponent is < -4 or >= 16, integral values get `.0`. */
export function pythonFloatRepr(x: number): string {
  return formatFloat(x, -4, true);
}

/**
 * A float as pydantic-core writes it in JSON, which is how Prefect's responses
 * print floats in `data` (FastAPI serialises response models with pydantic-core):
 * the digits of repr(float), but the positional window reaches down to 1e-5
 * (`0.00001`, then `1e-6`) and the exponent is never zero-padded (`1e-7`,
 * `1e+16`). Probed on Prefect 3.6.24 (pydantic-core 2.41.5).
 */
export function pydanticFloatJson(x: number): string {
  return formatFloat(x, -5, false);
}

/** Shortest round-trip digits, positional while minExponent <= exponent < 16, else `d.ddde±x`. */
function formatFloat(x: number, minExponent: number, padExponent: boolean): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(x);
  if (abs >= 1e-4 && abs < 1e16) {
    // Both languages print these in positional notation with the same shortest digits.
    const s = String(x);
    return s.includes('.') ? s : `${s}.0`;
  }
  const sign = x < 0 ? '-' : '';
  const [mantissa = '', exponentText = '0'] = abs.toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exponent = Number(exponentText);
  const point = exponent + 1;
  if (exponent >= 16 || exponent < minExponent) {
    const expDigits = String(Math.abs(exponent)).padStart(padExponent ? 2 : 1, '0');
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exponent < 0 ? '-' : '+'}${expDigits}`;
  }
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}.0`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

function canonicalNumber(n: JsonNumber): string {
  if (!n.isFloat) return n.raw === '-0' ? '0' : n.raw;
  const x = Number(n.raw);
  // Prefect's response encoder turns NaN and ±Infinity (also a float overflow such as 1e400) into null.
  return Number.isFinite(x) ? pydanticFloatJson(x) : 'null';
}

/**
 * Canonical compact JSON text of a value, as Prefect would return it in `data`
 * and `metadata_`: Python's `json.dumps(v, ensure_ascii=False, separators=(',', ':'))`
 * layout with floats printed as pydantic-core does (pydanticFloatJson) and
 * non-finite floats as null. Accepts parsed trees (Map,
 * JsonNumber) and plain JS values (an integral JS number is printed as an int).
 */
export function canonicalJson(value: unknown): string {
  return canonical(value, 0);
}

function canonical(value: unknown, depth: number): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'string':
      // JSON.stringify escapes exactly what Python's json.dumps(ensure_ascii=False) escapes for well-formed strings.
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) return 'null';
      return Number.isInteger(value) ? BigInt(value).toString() : pydanticFloatJson(value);
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    default:
      throw new TypeError(`cannot encode a ${typeof value} as JSON`);
  }
  if (depth >= MAX_JSON_DEPTH) throw new RangeError(`nesting deeper than ${MAX_JSON_DEPTH} levels`);
  if (value instanceof JsonNumber) return canonicalNumber(value);
  if (value instanceof RawJson) return canonical(parseJson(value.text), depth);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + canonical(value[i], depth + 1);
    return out + ']';
  }
  const entries: Iterable<[string, unknown]> = value instanceof Map ? value : Object.entries(value);
  let out = '{';
  let first = true;
  for (const [k, v] of entries) {
    if (v === undefined) continue;
    out += (first ? '' : ',') + JSON.stringify(String(k)) + ':' + canonical(v, depth + 1);
    first = false;
  }
  return out + '}';
}

/** JSON text inserted verbatim by `stringifyJson` (lets producers and tests send `1.0`, `1e2` or `NaN` as written). */
export class RawJson {
  constructor(readonly text: string) {}
}

export function rawJson(text: string): RawJson {
  return new RawJson(text);
}

/** Compact JSON text without normalisation: RawJson verbatim, JsonNumber as written, Maps in order; everything else as JSON.stringify. */
export function stringifyJson(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (value instanceof JsonNumber) return value.raw;
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : stringifyJson(v))).join(',')}]`;
  const entries: Iterable<[string, unknown]> = value instanceof Map ? value : Object.entries(value);
  const parts: string[] = [];
  for (const [k, v] of entries) if (v !== undefined) parts.push(`${JSON.stringify(String(k))}:${stringifyJson(v)}`);
  return `{${parts.join(',')}}`;
}

/** A parsed tree as plain JS values (numbers become JS numbers, objects null-prototype objects); for schema validation only. */
export function toPlain(value: JsonValue): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof JsonNumber) return Number(value.raw);
  if (Array.isArray(value)) return value.map(toPlain);
  const out = Object.create(null) as Record<string, unknown>;
  for (const [k, v] of value) out[k] = toPlain(v);
  return out;
}
