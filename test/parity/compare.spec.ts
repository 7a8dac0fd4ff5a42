import { deviationOf, DEVIATIONS } from './deviations';
import { classify } from './support/compare';
import { ParityRequest } from './support/generator';
import { Random } from './support/random';

// The pure parts of the differential test: classification, the deviation list, the PRNG.
const post = (body: string): ParityRequest => ({ method: 'POST', path: '/api/artifacts/filter', route: 'POST /api/artifacts/filter', headers: { 'content-type': 'application/json' }, body });
const row = (id: string, data: string) => `{"id":"${id}","key":null,"data":${data}}`;

describe('classify', () => {
  test('equal answers agree', () => {
    expect(classify(post('{}'), { status: 200, body: '[]' }, { status: 200, body: '[]' })).toEqual([]);
  });

  test('a different status is one class named by both statuses and error signatures', () => {
    expect(classify(post('{}'), { status: 404, body: '{"detail":"Artifact not found."}' }, { status: 404, body: '{"detail":"Not Found"}' })).toEqual([
      'POST /api/artifacts/filter: 404: value at detail',
    ]);
    expect(classify(post('{}'), { status: 200, body: '0' }, { status: 422, body: '{"exception_detail":[{"type":"value_error"}]}' })).toEqual([
      'POST /api/artifacts/filter: status 200 value vs ours 422 value_error',
    ]);
  });

  test('number text and row order are separate classes of one answer', () => {
    const prefect = `[${row('b', '1e-7')},${row('a', '1')}]`;
    const ours = `[${row('a', '1')},${row('b', '1e-07')}]`;
    expect(classify(post('{"sort":"CREATED_DESC"}'), { status: 200, body: prefect }, { status: 200, body: ours })).toEqual([
      'POST /api/artifacts/filter: 200: number text at [].data',
      'POST /api/artifacts/filter: 200: row order differs (sort CREATED_DESC)',
    ]);
  });

  test('versions under a KEY_* sort: equal keys may come in any order, and a page may cut their group anywhere', () => {
    const keyed = (id: string, key: string | null, data = '1') => `{"id":"${id}","key":${JSON.stringify(key)},"data":${data}}`;
    const answer = (...rows: string[]) => ({ status: 200, body: `[${rows.join(',')}]` });
    const prefect = answer(keyed('b', 'k'), keyed('a', 'k'), keyed('c', 'm'), keyed('d', null));
    // Ties reordered: agreement.
    expect(classify(post('{"sort":"KEY_ASC"}'), prefect, answer(keyed('a', 'k'), keyed('b', 'k'), keyed('c', 'm'), keyed('d', null)))).toEqual([]);
    // Another row among equal keys inside the page: a difference.
    expect(classify(post('{"sort":"KEY_ASC"}'), prefect, answer(keyed('a', 'k'), keyed('x', 'k'), keyed('c', 'm'), keyed('d', null)))).toEqual([
      'POST /api/artifacts/filter: 200: different rows among equal keys (sort KEY_ASC)',
    ]);
    // The same rows with other text: still a difference.
    expect(classify(post('{"sort":"KEY_ASC"}'), prefect, answer(keyed('a', 'k'), keyed('b', 'k', '2'), keyed('c', 'm'), keyed('d', null)))).toEqual([
      'POST /api/artifacts/filter: 200: value at [].data',
    ]);
    // A full page (limit 4) cuts the last group: any of its tied rows will do; an offset cuts the first.
    expect(classify(post('{"sort":"KEY_ASC","limit":4}'), prefect, answer(keyed('b', 'k'), keyed('a', 'k'), keyed('c', 'm'), keyed('e', null)))).toEqual([]);
    expect(classify(post('{"sort":"KEY_ASC","offset":1}'), prefect, answer(keyed('x', 'k'), keyed('y', 'k'), keyed('c', 'm'), keyed('d', null)))).toEqual([]);
    // Keys in another sequence are never ties.
    expect(classify(post('{"sort":"KEY_ASC"}'), prefect, answer(keyed('d', null), keyed('b', 'k'), keyed('a', 'k'), keyed('c', 'm')))).toEqual([
      'POST /api/artifacts/filter: 200: row order differs (sort KEY_ASC)',
    ]);
    // Only versions: other sorts and routes compare exactly.
    expect(classify(post('{"sort":"CREATED_DESC"}'), prefect, answer(keyed('a', 'k'), keyed('b', 'k'), keyed('c', 'm'), keyed('d', null)))).toEqual([
      'POST /api/artifacts/filter: 200: row order differs (sort CREATED_DESC)',
    ]);
  });

  test('a different number (not only its text) is a value difference', () => {
    expect(classify(post('{}'), { status: 200, body: `[${row('a', '1e-7')}]` }, { status: 200, body: `[${row('a', '2e-7')}]` })).toEqual([
      'POST /api/artifacts/filter: 200: value at [].data',
    ]);
  });
});

describe('deliberate deviations', () => {
  test('each probe is covered by its own deviation', () => {
    for (const d of DEVIATIONS) expect(deviationOf(d.probe, { status: 503, body: '' })?.id).toBe(d.id);
  });

  test('only a Prefect 5xx makes a deviation', () => {
    expect(deviationOf(post('{"limit": NaN}'), { status: 422, body: '' })).toBeUndefined();
  });

  test('a request matching two deviations counts as the one our answer fits', () => {
    const body = '{"artifacts":{"key":{"any_":["nul\\u0000"]}},"unknown_":Infinity}';
    expect(deviationOf(post(body), { status: 503, body: '' }, { status: 200, body: '[]' })?.id).toBe('nul-in-text');
    expect(deviationOf(post(body), { status: 503, body: '' }, { status: 422, body: '{"exception_message":"Invalid request received.","exception_detail":[{}]}' })?.id).toBe(
      'non-finite-number-in-invalid-body',
    );
  });

  test('non-finite numbers are found outside strings only', () => {
    const nonFinite = (body: string) => deviationOf(post(body), { status: 500, body: '' })?.id === 'non-finite-number-in-invalid-body';
    expect(nonFinite('{"flows": 1e400}')).toBe(true);
    expect(nonFinite('{"a": {"b": -Infinity}}')).toBe(true);
    expect(nonFinite('{"flows": 1e300}')).toBe(false);
    expect(nonFinite('{"key": "NaN"}')).toBe(false);
  });
});

test('Random is deterministic per seed', () => {
  const a = new Random(7);
  const b = new Random(7);
  const c = new Random(8);
  const seq = (r: Random) => Array.from({ length: 5 }, () => r.int(0, 1000));
  const first = seq(a);
  expect(seq(b)).toEqual(first);
  expect(seq(c)).not.toEqual(first);
  expect(new Random(1).uuid()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});
