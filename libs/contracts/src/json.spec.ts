import fc from 'fast-check';
import { canonicalJson, JsonNumber, JsonSyntaxError, MAX_JSON_DEPTH, parseJson, pydanticFloatJson, pythonFloatRepr, rawJson, stringifyJson } from './json';

const canon = (text: string) => canonicalJson(parseJson(text));

// Expected texts probed on Prefect 3.6.24 over HTTP on PostgreSQL (its `data`
// column is json, so the text Python wrote is read back and printed by pydantic-core).
describe('lossless JSON: numbers come back as Prefect prints them in data (pydantic-core)', () => {
  it.each([
    ['1', '1'],
    ['1.0', '1.0'],
    ['-0', '0'],
    ['-0.0', '-0.0'],
    ['1e2', '100.0'],
    ['1E2', '100.0'],
    ['1.50', '1.5'],
    ['123.456e1', '1234.56'],
    ['0.1', '0.1'],
    ['0.0001', '0.0001'],
    ['0.00001', '0.00001'],
    ['1e-5', '0.00001'],
    ['1.5e-5', '0.000015'],
    ['1.234e-5', '0.00001234'],
    ['9.99e-6', '9.99e-6'],
    ['1e-6', '1e-6'],
    ['0.000001', '1e-6'],
    ['1E-7', '1e-7'],
    ['-1e-7', '-1e-7'],
    ['2.5e-7', '2.5e-7'],
    ['1e-100', '1e-100'],
    ['1e-300', '1e-300'],
    ['1.5e300', '1.5e+300'],
    ['1e22', '1e+22'],
    ['1.5e16', '1.5e+16'],
    ['123456789012345678901.0', '1.2345678901234568e+20'],
    ['123456789.123', '123456789.123'],
    ['9007199254740993', '9007199254740993'],
    ['1e15', '1000000000000000.0'],
    ['9999999999999998.0', '9999999999999998.0'],
    ['1e16', '1e+16'],
    ['100000000000000000000.0', '1e+20'],
    ['12345678901234567890.0', '1.2345678901234567e+19'],
    ['123456789012345678901234567890', '123456789012345678901234567890'],
    ['-123456789012345678901234567890', '-123456789012345678901234567890'],
    ['5e-324', '5e-324'],
    ['1.7976931348623157e308', '1.7976931348623157e+308'],
    ['1e-400', '0.0'],
    ['-1e-400', '-0.0'],
    ['1e400', 'null'],
    ['-1e400', 'null'],
    ['NaN', 'null'],
    ['Infinity', 'null'],
    ['-Infinity', 'null'],
  ])('%s → %s', (input, expected) => {
    expect(canon(input)).toBe(expected);
    expect(canon(`[${input}]`)).toBe(`[${expected}]`);
  });

  it('keeps the source text of every number in the parsed tree', () => {
    const tree = parseJson('[1, 1.0, 1e2]') as JsonNumber[];
    expect(tree.map((n) => [n.raw, n.isFloat])).toEqual([
      ['1', false],
      ['1.0', true],
      ['1e2', true],
    ]);
  });

  it('prints every finite double with the shortest round-trip digits in Python repr layout', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        const repr = pythonFloatRepr(x);
        expect(Object.is(Number(repr), x)).toBe(true);
        const abs = Math.abs(x);
        if (x === 0 || (abs >= 1e-4 && abs < 1e16)) expect(repr).toMatch(/^-?\d+\.\d+$/);
        else expect(repr).toMatch(/^-?\d(\.\d+)?e[+-]\d{2,3}$/);
      }),
      { numRuns: 5000 },
    );
  });

  it('prints every finite double with the same digits in pydantic-core layout (window down to 1e-5, unpadded exponent)', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        const text = pydanticFloatJson(x);
        expect(Object.is(Number(text), x)).toBe(true);
        const abs = Math.abs(x);
        if (x === 0 || (abs >= 1e-5 && abs < 1e16)) expect(text).toMatch(/^-?\d+\.\d+$/);
        else expect(text).toMatch(/^-?\d(\.\d+)?e[+-][1-9]\d{0,2}$/);
        // Outside [1e-5, 1e-4) the text is repr(float)'s but for the exponent's zero padding.
        if (!(abs >= 1e-5 && abs < 1e-4)) expect(text.replace(/e([+-])0+/, 'e$1')).toBe(pythonFloatRepr(x).replace(/e([+-])0+/, 'e$1'));
      }),
      { numRuns: 5000 },
    );
  });
});

describe('lossless JSON: structure and strings', () => {
  it('keeps object key order, integer-like keys included', () => {
    expect(canon('{"b":1,"2":2,"a":3,"1":4}')).toBe('{"b":1,"2":2,"a":3,"1":4}');
  });

  it('lets the last duplicate key win, at the position of the first (a Python dict)', () => {
    expect(canon('{"a":1,"b":2,"a":3}')).toBe('{"a":3,"b":2}');
  });

  it('is compact, with non-ASCII raw and only the escapes Python writes', () => {
    expect(canon(' { "k" : [ 1 , "caf\\u00e9 \\ud83d\\ude00" , "a\\/b" , "\\t\\n\\u0001\\u007f\\"\\\\" ] } ')).toBe(
      '{"k":[1,"café 😀","a/b","\\t\\n\\u0001\u007f\\"\\\\"]}',
    );
  });

  it('canonicalises plain JS values too (an integral number prints as an int)', () => {
    expect(canonicalJson({ a: [1, 1.5, 1e21, -0, NaN, null, true, 'x'], b: undefined })).toBe('{"a":[1,1.5,1000000000000000000000,0,null,null,true,"x"]}');
  });

  it('is idempotent: canonical text parses back to the same canonical text', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const once = canon(JSON.stringify(value));
        expect(canon(once)).toBe(once);
        expect(JSON.parse(once)).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 500 },
    );
  });

  it('stringifyJson writes RawJson and JsonNumber verbatim', () => {
    expect(stringifyJson({ a: rawJson('1.50'), b: new JsonNumber('1e2', true), c: [undefined, 'x'] })).toBe('{"a":1.50,"b":1e2,"c":[null,"x"]}');
  });
});

describe('lossless JSON: what it refuses', () => {
  it.each([
    '',
    ' ',
    '{',
    '[1,]',
    '{"a":1,}',
    '{"a" 1}',
    '{a:1}',
    "{'a':1}",
    '01',
    '1.',
    '.5',
    '+1',
    '1e',
    '-',
    'nan',
    'infinity',
    '-NaN',
    'tru',
    'nul',
    '"\\x"',
    '"\\u12"',
    '"unterminated',
    '"raw \n newline"',
    '"\\ud800"',
    '"\\udc00"',
    '"\\ud800\\u0041"',
    '1 2',
    '{} x',
  ])('%j', (text) => {
    expect(() => parseJson(text)).toThrow(JsonSyntaxError);
  });

  it.each([
    ['"unterminated', /^unterminated string at position 13$/],
    ['"after \\n an escape', /^unterminated string at position 19$/],
    ['"raw \n newline"', /^invalid control character in string at position 5$/],
    ['"\\t then raw \t tab"', /^invalid control character in string at position 13$/],
  ])('names what is wrong in a string: %j', (text, message) => {
    expect(() => parseJson(text)).toThrow(message);
  });

  it(`accepts ${MAX_JSON_DEPTH} levels of nesting and refuses one more`, () => {
    const nested = (n: number) => '['.repeat(n) + ']'.repeat(n);
    expect(() => parseJson(nested(MAX_JSON_DEPTH))).not.toThrow();
    expect(() => parseJson(nested(MAX_JSON_DEPTH + 1))).toThrow(/nesting deeper than 512/);
    expect(() => parseJson('{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000))).toThrow(JsonSyntaxError);
  });
});
