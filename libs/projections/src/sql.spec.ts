import fc from 'fast-check';
import { withArrayLiterals } from './sql';

// node-pg's own parameter conversion (not in its type declarations).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { prepareValue } = require('pg/lib/utils') as { prepareValue: (value: unknown) => unknown };

describe('withArrayLiterals', () => {
  it('sends each flat array as exactly the text node-pg would send', () => {
    const scalar = fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom('', 'NULL', ' x ', 'a,b', '{}', '"', '\\', '\\"', 'é🦀'), fc.integer(), fc.double({ noNaN: true }), fc.boolean(), fc.constant(null));
    fc.assert(
      fc.property(fc.array(scalar, { maxLength: 20 }), (values) => {
        const [sent] = withArrayLiterals({ text: 'SELECT $1', values: [values] }).values;
        expect(sent).toBe(prepareValue(values));
      }),
      { numRuns: 2000 },
    );
  });

  it('leaves values that are not flat arrays of scalars to node-pg', () => {
    const nested = [['a'], ['b']];
    const objects = [{ a: 1 }];
    const statement = { text: 'SELECT $1, $2, $3, $4', values: ['x', 7, nested, objects] };
    expect(withArrayLiterals(statement)).toEqual({ text: statement.text, values: ['x', 7, nested, objects] });
    expect(withArrayLiterals({ text: 'SELECT $1', values: [['a', undefined, 'b"c']] }).values).toEqual(['{"a",NULL,"b\\"c"}']);
  });
});
