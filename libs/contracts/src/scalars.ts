const HEX32 = /^[0-9a-fA-F]{32}$/;
const HYPHENATED = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/**
 * The UUID forms Prefect (pydantic) accepts: hyphenated in any case, 32 hex
 * digits, `{hyphenated}`, `urn:uuid:hyphenated`. Returns the lowercase
 * hyphenated form, or null.
 */
export function normaliseUuid(input: string): string | null {
  let s = input;
  if (s.length === 38 && s.charCodeAt(0) === 0x7b && s.charCodeAt(37) === 0x7d) s = s.slice(1, 37);
  else if (s.length === 45 && s.slice(0, 9).toLowerCase() === 'urn:uuid:') s = s.slice(9);
  if (s.length === 36 && HYPHENATED.test(s)) return s.toLowerCase();
  if (s === input && s.length === 32 && HEX32.test(s)) {
    const h = s.toLowerCase();
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
  return null;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** The number written by `width` ASCII digits at `at`, or -1. */
function digits(s: string, at: number, width: number): number {
  let n = 0;
  for (let i = at; i < at + width; i++) {
    const d = s.charCodeAt(i) - 48;
    if (!(d >= 0 && d <= 9)) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * Parses an RFC 3339 datetime that has an offset (`Z` or `±HH:MM`) and returns
 * the instant as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC, always 6 fraction digits,
 * extra digits truncated). These strings sort chronologically and PostgreSQL
 * parses them exactly. Returns null for anything else, including instants
 * outside years 1..9999 (PostgreSQL and Python both refuse year 0).
 */
export function normaliseTimestamp(s: string): string | null {
  // Hand-written rather than a regex: several per event on the ingest hot path.
  if (s.length < 20 || s[4] !== '-' || s[7] !== '-' || s[13] !== ':' || s[16] !== ':') return null;
  const sep = s[10];
  if (sep !== 'T' && sep !== 't' && sep !== ' ') return null;
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  const hour = digits(s, 11, 2);
  const minute = digits(s, 14, 2);
  const second = digits(s, 17, 2);
  if (year < 1 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return null;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0))) return null;
  let i = 19;
  let fraction = '';
  if (s[i] === '.') {
    const start = ++i;
    while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
    if (i === start) return null;
    fraction = s.slice(start, Math.min(i, start + 6));
  }
  let offsetMinutes: number;
  const zone = s[i];
  if ((zone === 'Z' || zone === 'z') && i + 1 === s.length) {
    offsetMinutes = 0;
  } else if (zone === '+' || zone === '-') {
    const colon = s[i + 3] === ':' ? 1 : 0;
    if (s.length !== i + 5 + colon) return null;
    const oh = digits(s, i + 1, 2);
    const om = digits(s, i + 3 + colon, 2);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return null;
    offsetMinutes = (zone === '-' ? -1 : 1) * (oh * 60 + om);
  } else {
    return null;
  }
  const micros = fraction.length === 6 ? fraction : (fraction + '000000').slice(0, 6);
  if (offsetMinutes === 0) return `${s.slice(0, 10)}T${s.slice(11, 19)}.${micros}Z`;
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute - offsetMinutes, second, 0);
  const y = d.getUTCFullYear();
  if (y < 1 || y > 9999) return null;
  return (
    `${pad(y, 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}` +
    `T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.${micros}Z`
  );
}

/** Prefect's artifact key rule (ArtifactCreate.key): lowercase letters, digits and dashes; the empty string is allowed. */
export const ARTIFACT_KEY_PATTERN = /^[a-z0-9-]*$/;

export const METADATA_VALUE_MAX_CHARS = 500;

/** Prefect stores a metadata value longer than 500 code points as its first 500 code points plus `...`. */
export function truncateMetadataValue(value: string): string {
  if (value.length <= METADATA_VALUE_MAX_CHARS) return value;
  let i = 0;
  for (let count = 0; count < METADATA_VALUE_MAX_CHARS && i < value.length; count++) {
    const c = value.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < value.length ? 2 : 1;
  }
  return i >= value.length ? value : `${value.slice(0, i)}...`;
}
