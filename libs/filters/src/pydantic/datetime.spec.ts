import { parseDateTimeText, parseInstant } from './datetime';

// Answers of Prefect 3.6.24 (Python 3.11, pendulum 3.3.0) for `after_` of a
// filter, probed over its validation on 2026-12-02: the instant in UTC, or the
// `msg` of its one error. 37,000 probed strings agreed with this code; these
// are a sample of each rule. Bare times take the request's date.
const PROBED: [string, string][] = [
  ["12:00", "2026-12-02T12:00:00.000000Z"],
  ["2024-W01", "2024-01-01T00:00:00.000000Z"],
  ["20240101T120000Z", "2024-01-01T12:00:00.000000Z"],
  ["2024-01", "2024-01-01T00:00:00.000000Z"],
  ["2024-01-01T12", "2024-01-01T12:00:00.000000Z"],
  ["2024-001", "2024-01-01T00:00:00.000000Z"],
  ["2024-W01-3", "2024-01-03T00:00:00.000000Z"],
  ["2024W013", "2024-01-03T00:00:00.000000Z"],
  ["2024W01 1200", "2024-01-01T12:00:00.000000Z"],
  ["2024-W00", "2023-12-25T00:00:00.000000Z"],
  ["2020-W53-7", "2021-01-03T00:00:00.000000Z"],
  ["2024-W53", "Value error, Unable to parse string [2024-W53]"],
  ["2024-366", "2024-12-31T00:00:00.000000Z"],
  ["2023-366", "Value error, Unable to parse string [2023-366]"],
  ["2024002T12", "2024-01-02T12:00:00.000000Z"],
  ["20240102T12:00", "2024-01-02T12:00:00.000000Z"],
  ["20240102T12:00:00", "Value error, Unable to parse string [20240102T12:00:00]"],
  ["2024-01-02T1200", "Value error, Unable to parse string [2024-01-02T1200]"],
  ["2024-01-02 12", "2024-01-02T12:00:00.000000Z"],
  ["2024-01-02T12Z", "2024-01-02T12:00:00.000000Z"],
  ["2024-01-02T12:00+0130", "2024-01-02T10:30:00.000000Z"],
  ["2024-01 12:00:00Z", "2024-01-01T12:00:00.000000Z"],
  ["T1230Z", "2026-12-02T12:30:00.000000Z"],
  ["T12:00:00", "Value error, Unable to parse string [T12:00:00]"],
  ["12:00+05:00", "2026-12-02T12:00:00.000000Z"],
  ["12:00:00+2400", "2026-12-02T12:00:00.000000Z"],
  ["1200Z", "Value error, Unable to parse string [1200Z]"],
  ["12:5", "2026-12-02T12:05:00.000000Z"],
  ["1:2:3", "2026-12-02T01:02:03.000000Z"],
  [" 12:00:00", "2026-12-02T12:00:00.000000Z"],
  ["2024/01/02", "2024-01-02T00:00:00.000000Z"],
  ["2024:01:02 12:00:60", "Value error, second must be in 0..59"],
  ["2024/01/02 25:00", "Value error, hour must be in 0..23"],
  ["2024/01/02 12:60", "Value error, minute must be in 0..59"],
  ["0000-01-01", "Value error, Unable to parse string [0000-01-01]"],
  ["2024-01-2", "Value error, Unable to parse string [2024-01-2]"],
  ["2024-01-02t12:00+01", "Value error, Unable to parse string [2024-01-02t12:00+01]"],
  ["P1D", "Value error, value is not a valid datetime it is a <class 'pendulum.duration.Duration'>"],
  ["PT", "Value error, value is not a valid datetime it is a <class 'pendulum.duration.Duration'>"],
  ["P1D1W", "Value error, value is not a valid datetime it is a <class 'pendulum.duration.Duration'>"],
  ["P1W1D", "Value error, Unable to parse string [P1W1D]"],
  ["P", "Value error, Unable to parse string [P]"],
  ["2024-01-01/2024-01-02", "Value error, value is not a valid datetime it is a <class 'pendulum.interval.Interval'>"],
  ["2024-01-01/P1D", "value is not a valid datetime"],
  ["a/b", "Value error, Unable to parse string [a/b]"],
  ["7:", "value is not a valid datetime"],
  ["notadate", "Value error, Unable to parse string [notadate]"],
  ["2024-01-01T12:00:00.1234567890Z", "2024-01-01T12:00:00.123456Z"],
  ["2024-01-02 12:00:00,123456789Z", "2024-01-02T12:00:00.123456Z"],
];

const NOW = new Date('2026-12-02T08:30:00.123Z');

function answer(text: string): string {
  const instant = parseInstant(text);
  if (instant !== undefined) return instant;
  const parsed = parseDateTimeText(text, NOW);
  return 'instant' in parsed ? parsed.instant : parsed.msg;
}

describe('Prefect DateTime strings (Pydantic, then pendulum)', () => {
  it.each(PROBED)('%p → %s', (text, expected) => {
    expect(answer(text)).toBe(expected);
  });

  it('reads "now" as the request time', () => {
    expect(answer('now')).toBe('2026-12-02T08:30:00.123000Z');
  });

  it('marks offsets of a day or more, which pendulum takes and Prefect then fails on (503)', () => {
    expect(parseDateTimeText('2024-01-02T12:00:00+24:00', NOW)).toEqual({ instant: '2024-01-01T12:00:00.000000Z', dayOrMoreOffset: true });
    expect(parseDateTimeText('2024-01-02T12:00:00-2400', NOW)).toEqual({ instant: '2024-01-03T12:00:00.000000Z', dayOrMoreOffset: true });
    expect(parseDateTimeText('2024-01-02T12:00:00+23:59', NOW)).toEqual({ instant: '2024-01-01T12:01:00.000000Z' });
  });

  it('splits Unix milliseconds exactly', () => {
    expect(parseInstant(11999236030700)).toBe('2350-03-30T01:07:10.700000Z');
    expect(parseInstant('23202399992024')).toBe('2705-04-04T07:06:32.024000Z');
  });
});
