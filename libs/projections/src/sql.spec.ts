import fc from 'fast-check';
import { arrayLiteral, withArrayLiterals } from './sql';

/** The elements PostgreSQL's array input reads from a one-dimensional literal (null for NULL). */
function readArrayLiteral(text: string): (string | null)[] {
  expect(text.startsWith('{') && text.endsWith('}')).toBe(true);
  const out: (string | null)[] = [];
  let i = 1;
  if (text[i] === '}') return out;
  for (;;) {
    let element = '';
    if (text[i] === '"') {
      i++;
      while (text[i] !== '"') {
        if (i >= text.length) throw new Error('unterminated element');
        if (text[i] === '\\') i++;
        element += text[i++];
      }
      i++;
      out.push(element);
    } else {
      while (text[i] !== ',' && text[i] !== '}') {
        if ('"\\{ '.includes(text[i]!)) throw new Error(`unquoted special character in ${text}`);
        element += text[i++];
      }
      out.push(element.toUpperCase() === 'NULL' ? null : element);
    }
    if (text[i] === '}') {
      expect(i).toBe(text.length - 1);
      return out;
    }
    expect(text[i]).toBe(',');
    i++;
  }
}

const scalar = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom('', 'NULL', 'null', ' x ', 'a,b', '{}', '"', '\\', '\\"', '\\n', '\n', '\u0000', '\ud800', 'é🦀', '{"a":"b\\"c"}'),
  fc.integer(),
  fc.double(),
  fc.bigInt(),
  fc.boolean(),
  fc.constantFrom(null, undefined),
);

describe('arrayLiteral', () => {
  it('PostgreSQL reads back each element as its text (node-pg\'s conversion), NULL for null', () => {
    fc.assert(
      fc.property(fc.array(scalar, { maxLength: 20 }), (values) => {
        expect(readArrayLiteral(arrayLiteral(values))).toEqual(values.map((v) => (v === null || v === undefined ? null : String(v))));
      }),
      { numRuns: 3000 },
    );
  });

  it('withArrayLiterals converts flat arrays of scalars and leaves everything else to node-pg', () => {
    const nested = [['a'], ['b']];
    const objects = [{ a: 1 }];
    const statement = { text: 'SELECT $1, $2, $3, $4, $5', values: ['x', 7, nested, objects, ['a', undefined, 'b"c', 1]] };
    expect(withArrayLiterals(statement)).toEqual({ text: statement.text, values: ['x', 7, nested, objects, '{"a",null,"b\\"c",1}'] });
  });
});
