import { JsonNumber } from '@app/contracts/json';
import { PythonJsonDecodeError, pythonJsonDumps, pythonJsonLoads, PythonJsonValueError } from './python-json';

// Messages and positions as CPython 3.11/3.12's json.loads reports them
// (checked with the interpreter); they end up in the 422 json_invalid item.
describe('pythonJsonLoads errors', () => {
  it.each([
    ['', 'Expecting value', 0],
    [' ', 'Expecting value', 1],
    ['{', 'Expecting property name enclosed in double quotes', 1],
    ['{"a"', "Expecting ':' delimiter", 4],
    ['{"a":', 'Expecting value', 5],
    ['{"a":1', "Expecting ',' delimiter", 6],
    ['{"a":1,}', 'Expecting property name enclosed in double quotes', 7],
    ['[1,]', 'Expecting value', 3],
    ['[1', "Expecting ',' delimiter", 2],
    ['{a:1}', 'Expecting property name enclosed in double quotes', 1],
    ['{"a" 1}', "Expecting ':' delimiter", 5],
    ['{"a":1 "b":2}', "Expecting ',' delimiter", 7],
    ['"abc', 'Unterminated string starting at', 0],
    ['"a\\x"', 'Invalid \\escape', 2],
    ['"\\u12"', 'Invalid \\uXXXX escape', 2],
    ['"\\u12zz"', 'Invalid \\uXXXX escape', 2],
    ['"a\u0001"', 'Invalid control character at', 2],
    ['01', 'Extra data', 1],
    ['1.', 'Extra data', 1],
    ['-', 'Expecting value', 0],
    ['[-]', 'Expecting value', 1],
    ['nul', 'Expecting value', 0],
    ['[1] x', 'Extra data', 4],
    ['{"é":x}', 'Expecting value', 5],
    ['{"😀":x}', 'Expecting value', 5],
    ['{"a":1}}', 'Extra data', 7],
    ['"\\', 'Unterminated string starting at', 0],
    ['"\\u', 'Invalid \\uXXXX escape', 2],
    ['"\\u1234', 'Invalid \\uXXXX escape', 2],
    ['1e', 'Extra data', 1],
    ['{"a":[1,2', "Expecting ',' delimiter", 9],
  ])('%j: %s at %d', (text, msg, pos) => {
    let error: unknown;
    try {
      pythonJsonLoads(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PythonJsonDecodeError);
    expect({ msg: (error as PythonJsonDecodeError).msg, pos: (error as PythonJsonDecodeError).pos }).toEqual({ msg, pos });
  });

  it('fails like Python on very deep nesting and on huge integers (FastAPI answers 400)', () => {
    expect(() => pythonJsonLoads('['.repeat(1000) + ']'.repeat(1000))).toThrow(PythonJsonValueError);
    expect(() => pythonJsonLoads('['.repeat(999) + ']'.repeat(999))).not.toThrow();
    expect(() => pythonJsonLoads('1'.repeat(4301))).toThrow(PythonJsonValueError);
  });
});

describe('pythonJsonLoads values', () => {
  it('accepts what Python accepts', () => {
    expect(pythonJsonLoads('NaN')).toEqual(new JsonNumber('NaN', true));
    expect(pythonJsonLoads('-Infinity')).toEqual(new JsonNumber('-Infinity', true));
    expect(pythonJsonLoads('"\\ud800"')).toBe('\ud800');
    expect(pythonJsonLoads('"\\ud83d\\ude00"')).toBe('😀');
    expect(pythonJsonLoads(' [1, 1.0, 1e2, -0] ')).toEqual([
      new JsonNumber('1', false),
      new JsonNumber('1.0', true),
      new JsonNumber('1e2', true),
      new JsonNumber('-0', false),
    ]);
  });

  it('keeps the first position and the last value of a duplicate key, like a dict', () => {
    const value = pythonJsonLoads('{"b":1,"1":2,"b":3}') as Map<string, unknown>;
    expect([...value.keys()]).toEqual(['b', '1']);
    expect(value.get('b')).toEqual(new JsonNumber('3', false));
  });
});

describe('pythonJsonDumps', () => {
  it('writes ints exactly and floats as repr(float)', () => {
    const value = pythonJsonLoads('[1, 1.0, 1e2, 1.50, -0.0, -0, 12345678901234567890123, 1e16, 0.00001, 1e400]');
    expect(pythonJsonDumps(value)).toBe('[1,1.0,100.0,1.5,-0.0,0,12345678901234567890123,1e+16,1e-05,null]');
  });

  it('is compact, keeps key order and writes non-ASCII raw', () => {
    expect(pythonJsonDumps(pythonJsonLoads('{ "z" : "é\\n\\u0001", "1" : [ true , null ] }'))).toBe('{"z":"é\\n\\u0001","1":[true,null]}');
  });
});
