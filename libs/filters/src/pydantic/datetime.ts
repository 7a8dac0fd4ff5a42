// Prefect's `DateTime` filter inputs (§7.10): what Pydantic's lax datetime
// parser accepts, naive values taken as UTC; numbers are Unix seconds, or
// milliseconds beyond 2e10. Exotic strings only pendulum understands
// ("now", ISO weeks) are refused: the spec does not require them.

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt _](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?)?$/;
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
  const seconds = Math.abs(value) > MS_WATERSHED ? value / 1000 : value;
  const whole = Math.floor(seconds);
  let micros = Math.round((seconds - whole) * 1e6);
  let ms = whole * 1000;
  if (micros === 1_000_000) {
    ms += 1000;
    micros = 0;
  }
  // Beyond JS dates (|ms| > 8.64e15) the year is NaN: refused like any year outside 1..9999.
  const year = new Date(ms).getUTCFullYear();
  if (!(year >= 1 && year <= 9999)) return undefined;
  return format(ms, micros);
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
