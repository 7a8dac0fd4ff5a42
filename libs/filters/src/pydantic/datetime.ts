// Prefect's `DateTime` filter inputs (§7.10): what Pydantic's lax datetime
// parser accepts, naive values taken as UTC; numbers are Unix seconds, or
// milliseconds beyond 2e10. A string Pydantic refuses then goes to pendulum
// (parseDateTimeText below).

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt _](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?)?$/;
const NUMERIC = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;
const MS_WATERSHED = 2e10;

/** An instant as `YYYY-MM-DDTHH:MM:SS.ffffffZ`, or undefined when unparseable. */
export function parseInstant(input: number | string): string | undefined {
  if (typeof input === 'number') return fromTimestamp(input);
  const m = ISO.exec(input);
  if (!m) return NUMERIC.test(input) ? fromTimestamp(Number(input)) : undefined;
  const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = '', , sign, oh = '0', om = '0'] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(sec);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59 || Number(oh) > 23 || Number(om) > 59) return undefined;
  const offsetMinutes = sign ? (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) : 0;
  const micros = Number(frac.slice(0, 6).padEnd(6, '0'));
  const ms = utcMillis(year, month, day, hour, minute, second) - offsetMinutes * 60_000;
  return format(ms, micros);
}

function fromTimestamp(value: number): string | undefined {
  if (!Number.isFinite(value)) return undefined;
  // Milliseconds are split in integer arithmetic where exact: 11999236030700 ms is .700000, not .700001.
  const ms = Math.abs(value) > MS_WATERSHED ? value : undefined;
  const whole = ms !== undefined ? Math.floor(ms / 1000) : Math.floor(value);
  let micros = ms !== undefined ? Math.round((ms - whole * 1000) * 1000) : Math.round((value - whole) * 1e6);
  let at = whole * 1000;
  if (micros === 1_000_000) {
    at += 1000;
    micros = 0;
  }
  // Beyond JS dates (|ms| > 8.64e15) the year is NaN: refused like any year outside 1..9999.
  const year = new Date(at).getUTCFullYear();
  if (!(year >= 1 && year <= 9999)) return undefined;
  return format(at, micros);
}

function utcMillis(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  return date.getTime();
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * PostgreSQL's text for the instant. A valid offset can move a date of year 1
 * or 9999 into year 0 or 10000 in UTC: PostgreSQL has no year 0 (it is 1 BC)
 * and refuses toISOString's `+010000`, so those years are written its way.
 */
function format(ms: number, micros: number): string {
  const date = new Date(ms);
  const year = date.getUTCFullYear();
  const rest = `${date.toISOString().slice(-20, -5)}.${String(micros).padStart(6, '0')}Z`;
  if (year < 1) return `${String(1 - year).padStart(4, '0')}${rest} BC`;
  return `${String(year).padStart(4, '0')}${rest}`;
}

// On Python < 3.13 Prefect's DateTime is pydantic_extra_types' pendulum
// DateTime: a string Pydantic's own parser refuses goes to pendulum.parse(text,
// strict=True) (pendulum 3.3), which tries, in order: "now"; its ISO 8601
// parser (Rust; week and ordinal dates, basic formats, durations); an ISO
// interval "a/b"; its "common" format (YYYY[/:]MM[/:]DD and H:M[:S]). A bare
// time lands on the current UTC day with its offset dropped, a date at
// midnight, no offset means UTC. Durations and intervals parse but are no
// datetime. The grammar below was derived by probing Prefect 3.6.24 with
// 22,032 strings (datetime.spec.ts keeps a sample of the answers).

/** A pydantic error message for the input, or the instant it denotes (`dayOrMoreOffset`: see below). */
export type DateTimeTextResult = { instant: string; dayOrMoreOffset?: true } | { msg: string; valueError: boolean };

interface Fields {
  kind: 'datetime' | 'date' | 'time';
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  micros: number;
  offsetMinutes: number;
}

type Parsed = Fields | { kind: 'duration' };

class Fail extends Error {}
const fail = (): never => {
  throw new Fail();
};

const valueError = (message: string): DateTimeTextResult => ({ msg: `Value error, ${message}`, valueError: true });

/** What Prefect makes of a string Pydantic's datetime parser refused; `now` is the request time. */
export function parseDateTimeText(text: string, now: Date = new Date()): DateTimeTextResult {
  if (text === 'now') return { instant: format(now.getTime(), now.getUTCMilliseconds() * 1000) };
  let parsed = attempt(() => parseIso8601(text));
  if (parsed === undefined && text.includes('/')) {
    const parts = text.split('/');
    const ends = parts.length === 2 && parts[0] && parts[1] ? parts.map((part) => attempt(() => parseIso8601(part))) : [];
    if (ends.length === 2 && ends.every((e) => e !== undefined)) {
      // pendulum builds the interval; with a duration end that fails outside ValueError.
      if (ends.some((e) => e?.kind === 'duration')) return { msg: 'value is not a valid datetime', valueError: false };
      return valueError("value is not a valid datetime it is a <class 'pendulum.interval.Interval'>");
    }
  }
  if (parsed === undefined) {
    const common = parseCommon(text);
    if (common === NO_MINUTE) return { msg: 'value is not a valid datetime', valueError: false };
    if (typeof common === 'string') return valueError(common);
    parsed = common;
  }
  if (parsed === undefined) return valueError(`Unable to parse string [${text}]`);
  if (parsed.kind === 'duration') return valueError("value is not a valid datetime it is a <class 'pendulum.duration.Duration'>");
  const f = parsed;
  const [year, month, day] = f.kind === 'time' ? [now.getUTCFullYear(), now.getUTCMonth() + 1, now.getUTCDate()] : [f.year, f.month, f.day];
  const offset = f.kind === 'datetime' ? f.offsetMinutes : 0;
  const instant = format(utcMillis(year, month, day, f.hour, f.minute, f.second) - offset * 60_000, f.micros);
  // pendulum takes an offset of 24 hours or more, and Prefect then fails (503) once the body validated.
  return Math.abs(offset) >= 24 * 60 ? { instant, dayOrMoreOffset: true } : { instant };
}

function attempt(parse: () => Parsed): Parsed | undefined {
  try {
    return parse();
  } catch (e) {
    if (e instanceof Fail) return undefined;
    throw e;
  }
}

// pendulum's (Rust) duration grammar, as probed: P, then number-unit pairs
// with units in the order Y M D W (repeats allowed: P1Y1Y, P1W2W), then an
// optional T with H M S in order; "P" alone is none, "PT" is one.
const DURATION = /^P((?:\d+(?:[.,]\d+)?[YMDW])*)(T(?:\d+(?:[.,]\d+)?[HMS])*)?$/;

function isDuration(text: string): boolean {
  const m = DURATION.exec(text);
  if (!m || (!m[1] && m[2] === undefined)) return false;
  const inOrder = (units: string, order: string) => [...units.replace(/[^A-Z]/g, '')].every((u, i, all) => i === 0 || order.indexOf(u) >= order.indexOf(all[i - 1] as string));
  return inOrder(m[1] ?? '', 'YMDW') && inOrder((m[2] ?? '').slice(1), 'HMS');
}

/** A cursor over the text for the ISO grammar. */
class Cursor {
  i = 0;
  constructor(readonly s: string) {}
  peek(): string | undefined {
    return this.s[this.i];
  }
  eat(c: string): boolean {
    if (this.s[this.i] !== c) return false;
    this.i++;
    return true;
  }
  /** Exactly n digits, or Fail. */
  digits(n: number): number {
    const run = this.s.slice(this.i, this.i + n);
    if (!new RegExp(`^\\d{${n}}$`).test(run)) fail();
    this.i += n;
    return Number(run);
  }
  /** The length of the run of digits at the cursor. */
  run(): number {
    let n = 0;
    while (/\d/.test(this.s[this.i + n] ?? '')) n++;
    return n;
  }
  get done(): boolean {
    return this.i >= this.s.length;
  }
}

/** pendulum's ISO 8601 parser as probed; throws Fail where it raises ValueError. */
function parseIso8601(text: string): Parsed {
  if (text.startsWith('P')) return isDuration(text) ? { kind: 'duration' } : fail();
  const c = new Cursor(text);
  const f: Fields = { kind: 'time', year: 0, month: 1, day: 1, hour: 0, minute: 0, second: 0, micros: 0, offsetMinutes: 0 };
  let mode: 'extended' | 'basic' | 'bare';
  if (/^\d{4}/.test(text)) {
    f.kind = 'date';
    f.year = c.digits(4);
    if (c.eat('-')) {
      mode = 'extended';
      if (c.eat('W')) weekDate(f, c.digits(2), c.eat('-') ? c.digits(1) : 1);
      else if (c.run() === 3) ordinalDate(f, c.digits(3));
      else {
        f.month = c.digits(2);
        if (c.eat('-')) {
          if (c.run() !== 2) fail();
          f.day = c.digits(2);
        }
      }
    } else {
      mode = 'basic';
      if (c.eat('W')) {
        const week = c.digits(2);
        weekDate(f, week, c.run() === 1 ? c.digits(1) : 1);
      } else if (c.run() === 4) {
        f.month = c.digits(2);
        f.day = c.digits(2);
      } else if (c.run() === 3) ordinalDate(f, c.digits(3));
      else fail();
    }
    if (f.year < 1 || f.month < 1 || f.month > 12 || f.day < 1 || f.day > daysInMonth(f.year, f.month)) fail();
    if (c.done) return f;
    if (!c.eat('T') && !c.eat(' ')) fail();
    f.kind = 'datetime';
  } else {
    mode = c.eat('T') ? 'basic' : 'bare';
  }
  time(f, c, mode);
  if (!c.done) fail();
  return f;
}

/**
 * HH[:MM[:SS[.f]]] after an extended date; HH[MM[SS]] or HH:MM after a basic
 * date or a leading T; a bare time needs at least HH:MM. Then an offset.
 */
function time(f: Fields, c: Cursor, mode: 'extended' | 'basic' | 'bare'): void {
  f.hour = c.digits(2);
  if (mode === 'basic') {
    if (c.eat(':')) f.minute = c.digits(2);
    else if (c.run() >= 2) {
      f.minute = c.digits(2);
      if (c.run() >= 2) f.second = c.digits(2);
    }
  } else if (c.eat(':')) {
    f.minute = c.digits(2);
    if (c.eat(':')) {
      f.second = c.digits(2);
      if (c.peek() === '.' || c.peek() === ',') {
        c.i++;
        const n = c.run();
        if (n < 1 || n > 9) fail();
        f.micros = Number(c.s.slice(c.i, c.i + Math.min(n, 6)).padEnd(6, '0'));
        c.i += n;
      }
    }
  } else if (mode === 'bare') fail();
  if (f.hour > 23 || f.minute > 59 || f.second > 59) fail();
  if (c.eat('Z')) return;
  const sign = c.peek();
  if (sign === '+' || sign === '-') {
    c.i++;
    const hours = c.digits(2);
    const minutes = c.eat(':') ? c.digits(2) : c.run() >= 2 ? c.digits(2) : 0;
    f.offsetMinutes = (sign === '-' ? -1 : 1) * (hours * 60 + minutes);
  }
}

function ordinalDate(f: Fields, ordinal: number): void {
  if (ordinal < 1 || ordinal > (isLeap(f.year) ? 366 : 365)) fail();
  const date = new Date(0);
  date.setUTCFullYear(f.year, 0, ordinal);
  f.month = date.getUTCMonth() + 1;
  f.day = date.getUTCDate();
}

/** ISO week dates; week 0 is accepted (the week before week 1), week 53 only in long years. */
function weekDate(f: Fields, week: number, weekday: number): void {
  if (week > weeksInYear(f.year) || weekday < 1 || weekday > 7) fail();
  const date = new Date(mondayOfWeek1(f.year) + ((week - 1) * 7 + (weekday - 1)) * 86_400_000);
  f.year = date.getUTCFullYear();
  f.month = date.getUTCMonth() + 1;
  f.day = date.getUTCDate();
}

function mondayOfWeek1(year: number): number {
  // Week 1 holds January 4th; weeks start on Monday.
  const jan4 = new Date(0);
  jan4.setUTCFullYear(year, 0, 4);
  return jan4.getTime() - ((jan4.getUTCDay() + 6) % 7) * 86_400_000;
}

function weeksInYear(year: number): number {
  const jan1 = new Date(0);
  jan1.setUTCFullYear(year, 0, 1);
  const day = jan1.getUTCDay();
  return day === 4 || (day === 3 && isLeap(year)) ? 53 : 52;
}

function isLeap(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

const COMMON =
  /^(?<date>(?<year>\d{4})(?<monthday>(?<monthsep>[/:])?(?<month>\d{2})(?:(?<daysep>[/:])?(?<day>\d{2})))?)?(?<time>(?<timesep> )?(?<hour>\d{1,2}):(?<minute>\d{1,2})?(?::(?<second>\d{1,2}))?(?<subsecondsection>[.,|](?<subsecond>\d{1,9}))?)?$/;

/**
 * pendulum's "common" format: the fields, undefined when it does not match, or
 * the message of the ValueError Python's date and time constructors raise for
 * a value out of range (Prefect reports it as is).
 */
const NO_MINUTE = Symbol('no minute');

function parseCommon(text: string): Fields | string | typeof NO_MINUTE | undefined {
  const m = COMMON.exec(text)?.groups;
  if (!m || !(m.date || m.time)) return undefined;
  // "12:" has no minute: int(None) raises a TypeError before any range check, which
  // Prefect reports as "value is not a valid datetime".
  if (m.time && m.minute === undefined) return NO_MINUTE;
  const f: Fields = { kind: 'date', year: 0, month: 1, day: 1, hour: 0, minute: 0, second: 0, micros: 0, offsetMinutes: 0 };
  if (m.date) {
    f.year = Number(m.year);
    if (m.monthday) {
      f.month = Number(m.month);
      f.day = Number(m.day);
    }
    if (f.year < 1) return `year ${f.year} is out of range`;
    if (f.month < 1 || f.month > 12) return 'month must be in 1..12';
    if (f.day < 1 || f.day > daysInMonth(f.year, f.month)) return 'day is out of range for month';
  }
  if (!m.time) return f;
  f.kind = m.date ? 'datetime' : 'time';
  f.hour = Number(m.hour);
  f.minute = Number(m.minute);
  f.second = Number(m.second ?? '0');
  f.micros = m.subsecond ? Number(m.subsecond.slice(0, 6).padEnd(6, '0')) : 0;
  if (f.hour > 23) return 'hour must be in 0..23';
  if (f.minute > 59) return 'minute must be in 0..59';
  if (f.second > 59) return 'second must be in 0..59';
  return f;
}
