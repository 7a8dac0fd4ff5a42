import { z } from 'zod';
import { toPydanticErrors } from './errors';
import { boolField, dateTimeField, enumField, intField, nonNegativeIntField, strField, uuidField } from './lax';

// The coercion tables of docs/api.md §3.4 and §7.10, leaf by leaf.

function check(schema: z.ZodType, input: unknown): unknown {
  const result = schema.safeParse(input);
  if (result.success) return { ok: result.data };
  return toPydanticErrors(result.error.issues, { loc: ['body', 'x'] }).map(({ type, msg, ctx }) => (ctx ? { type, msg, ctx } : { type, msg }));
}

const INT_PARSING = { type: 'int_parsing', msg: 'Input should be a valid integer, unable to parse string as an integer' };

describe('int (limit, offset, ge_/le_)', () => {
  const int = intField('');
  it.each([
    [5, 5],
    [5.0, 5],
    ['5', 5],
    [' 2 ', 2],
    ['2.0', 2],
    ['2.', 2],
    ['-7', -7],
    ['+3', 3],
    [true, 1],
    [false, 0],
    [10n ** 20n, 1e20],
  ])('accepts %p as %p', (input, expected) => {
    expect(check(int, input)).toEqual({ ok: expected });
  });

  it.each([
    [5.5, [{ type: 'int_from_float', msg: 'Input should be a valid integer, got a number with a fractional part' }]],
    ['abc', [INT_PARSING]],
    ['1e2', [INT_PARSING]],
    ['0x10', [INT_PARSING]],
    ['2.5', [INT_PARSING]],
    ['', [INT_PARSING]],
    [[1], [{ type: 'int_type', msg: 'Input should be a valid integer' }]],
    [{}, [{ type: 'int_type', msg: 'Input should be a valid integer' }]],
    [Infinity, [{ type: 'finite_number', msg: 'Input should be a finite number' }]],
    [1e20, [{ type: 'int_parsing_size', msg: 'Unable to parse input string as an integer, exceeded maximum size' }]],
  ])('refuses %p', (input, errors) => {
    expect(check(int, input)).toEqual(errors);
  });

  it('checks ge=0 after coercion (offset)', () => {
    const offset = nonNegativeIntField('');
    expect(check(offset, '-3')).toEqual([{ type: 'greater_than_equal', msg: 'Input should be greater than or equal to 0', ctx: { ge: 0 } }]);
    expect(check(offset, 0)).toEqual({ ok: 0 });
    expect(check(offset, 'x')).toEqual([INT_PARSING]);
  });
});

describe('bool (is_null_, exists_, eq_)', () => {
  const bool = boolField('');
  it.each([
    [true, true],
    [false, false],
    [1, true],
    [0, false],
    [1.0, true],
    ['true', true],
    ['T', true],
    ['yes', true],
    ['Y', true],
    ['on', true],
    ['1', true],
    ['FALSE', false],
    ['f', false],
    ['No', false],
    ['n', false],
    ['off', false],
    ['0', false],
  ])('accepts %p as %p', (input, expected) => {
    expect(check(bool, input)).toEqual({ ok: expected });
  });

  // pydantic-core 2.50.5, probed through Prefect 3.6.24: integral values within i64 are
  // "unable to interpret", fractions and values beyond i64 are no boolean at all.
  it.each([['maybe'], [2], [2.0], [-1], [' true'], [2n ** 63n - 1n], [-(2n ** 63n)], [9007199254740993n]])('refuses %p with bool_parsing', (input) => {
    expect(check(bool, input)).toEqual([{ type: 'bool_parsing', msg: 'Input should be a valid boolean, unable to interpret input' }]);
  });

  it.each([[[]], [{}], [0.5], [1.5], [2n ** 63n], [-(2n ** 63n) - 1n], [1e20]])('refuses %p with bool_type', (input) => {
    expect(check(bool, input)).toEqual([{ type: 'bool_type', msg: 'Input should be a valid boolean' }]);
  });
});

describe('str', () => {
  it.each([[1], [true], [null], [{}], [['a']]])('refuses %p without coercion', (input) => {
    expect(check(strField(''), input)).toEqual([{ type: 'string_type', msg: 'Input should be a valid string' }]);
  });
});

describe('uuid', () => {
  const uuid = uuidField('');
  it.each([
    '6f9619ff-8b86-d011-b42d-00c04fc964ff',
    '6F9619FF-8B86-D011-B42D-00C04FC964FF',
    '6F9619FF8B86D011B42D00C04FC964FF',
    '{6f9619ff-8b86-d011-b42d-00c04fc964ff}',
    'urn:uuid:6f9619ff-8b86-d011-b42d-00c04fc964ff',
  ])('accepts %s as the canonical form', (input) => {
    expect(check(uuid, input)).toEqual({ ok: '6f9619ff-8b86-d011-b42d-00c04fc964ff' });
  });

  const parsing = (detail: string) => [{ type: 'uuid_parsing', msg: `Input should be a valid UUID, ${detail}`, ctx: { error: detail } }];
  // The texts of pydantic-core 2.50.5 (Prefect 3.6.24 installed today), probed on 419 strings.
  it.each([
    ['not-a-uuid', 'invalid character: found `n` at 0'],
    ['6f9619ff-8b86-d011-b42d', 'invalid group count: expected 5, found 4'],
    ['abc', 'invalid length: found 3'],
    ['6f9619ff-8b86-d011-b42d-00c04fc964f', 'invalid group length in group 4: expected 12, found 11'],
    ['6f9619f-f8b86-d011-b42d-00c04fc964ff', 'invalid group length in group 0: expected 8, found 7'],
    ['6f9619ff-8b86-d011-b42d-00c04fc964fg', 'invalid character: found `g` at 35'],
    ['00000000-0000-0000-0000-0000000000é', 'invalid character: found `é` at 34'],
    ['{00000000000000000000000000000000}', 'invalid group count: expected 5, found 1'],
    ['', 'invalid length: found 0'],
  ])('refuses %p: %s', (input, detail) => {
    expect(check(uuid, input)).toEqual(parsing(detail));
  });

  it.each([[null], [1], [[]]])('refuses %p with uuid_type', (input) => {
    expect(check(uuid, input)).toEqual([{ type: 'uuid_type', msg: 'UUID input should be a string, bytes or UUID object' }]);
  });
});

describe('enum', () => {
  it('lists every value, the last one after "or"', () => {
    const expected = "'and_' or 'or_'";
    expect(check(enumField(['and_', 'or_'], ''), 'OR')).toEqual([{ type: 'enum', msg: `Input should be ${expected}`, ctx: { expected } }]);
    expect(check(enumField(['A', 'B', 'C'], ''), null)).toEqual([
      { type: 'enum', msg: "Input should be 'A', 'B' or 'C'", ctx: { expected: "'A', 'B' or 'C'" } },
    ]);
  });

  it('is case-sensitive', () => {
    expect(check(enumField(['COMPLETED'], ''), 'completed')).toEqual([
      { type: 'enum', msg: "Input should be 'COMPLETED'", ctx: { expected: "'COMPLETED'" } },
    ]);
  });
});

describe('timestamp (before_, after_)', () => {
  const ts = dateTimeField('');
  it.each([
    ['2024-01-01T12:00:00Z', '2024-01-01T12:00:00.000000Z'],
    ['2024-01-01T13:00:00+01:00', '2024-01-01T12:00:00.000000Z'],
    ['2024-01-01T04:00:00-0800', '2024-01-01T12:00:00.000000Z'],
    ['2024-01-01T12:00:00', '2024-01-01T12:00:00.000000Z'],
    ['2024-01-01 12:00:00', '2024-01-01T12:00:00.000000Z'],
    ['2024-01-01', '2024-01-01T00:00:00.000000Z'],
    ['2024-01-01T12:00:00.123456789Z', '2024-01-01T12:00:00.123456Z'],
    ['2024-01-01T12:00', '2024-01-01T12:00:00.000000Z'],
    [0, '1970-01-01T00:00:00.000000Z'],
    [1704110400, '2024-01-01T12:00:00.000000Z'],
    [1704110400500, '2024-01-01T12:00:00.500000Z'],
    ['1704110400', '2024-01-01T12:00:00.000000Z'],
  ])('reads %p as %s', (input, expected) => {
    expect(check(ts, input)).toEqual({ ok: expected });
  });

  it.each(['notadate', '2024-13-01', '2024-02-30', ''])('refuses %p with the parser message', (input) => {
    expect(check(ts, input)).toEqual([{ type: 'value_error', msg: `Value error, Unable to parse string [${input}]`, ctx: { error: {} } }]);
  });

  it.each([[true], [[]], [{}]])('refuses %p as not a datetime', (input) => {
    expect(check(ts, input)).toEqual([{ type: 'value_error', msg: 'value is not a valid datetime' }]);
  });

  // Found by the HTTP fuzz (test/reliability/http-fuzz): these answered 500.
  it.each([[1e300], [-1e300], [1e16], [-1e16], [2n ** 80n]])(
    'refuses the Unix time %p beyond any date as not a datetime (it threw)',
    (input) => {
      expect(check(ts, input)).toEqual([{ type: 'value_error', msg: 'value is not a valid datetime' }]);
    },
  );

  it.each([
    // An offset moves year 1 into year 0 (1 BC for PostgreSQL, which has no year 0) and year 9999 into 10000.
    ['0001-01-01T00:00:00+23:59', '0001-12-31T00:01:00.000000Z BC'],
    ['0001-01-01T00:00:00+00:00', '0001-01-01T00:00:00.000000Z'],
    ['9999-12-31T23:59:59-23:59', '10000-01-01T23:58:59.000000Z'],
    ['0099-03-04T05:06:07Z', '0099-03-04T05:06:07.000000Z'],
  ])('writes %p in a form PostgreSQL reads: %s', (input, expected) => {
    expect(check(ts, input)).toEqual({ ok: expected });
  });
});
