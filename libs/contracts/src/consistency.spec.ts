import { decodeConsistencyToken, encodeConsistencyToken, InvalidConsistencyTokenError, mergeOffsets, offsetsOfSend, trackPartitions } from './consistency';

const offsets = (entries: [string, number, bigint][]) => {
  const map = new Map<string, Map<number, bigint>>();
  for (const [topic, partition, offset] of entries) {
    if (!map.has(topic)) map.set(topic, new Map());
    map.get(topic)!.set(partition, offset);
  }
  return map;
};
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

describe('consistency tokens', () => {
  it('round-trips offsets, 64-bit ones included, as an opaque base64url string', () => {
    const written = offsets([
      ['prefect.runs', 3, 0n],
      ['prefect.artifacts', 0, 41n],
      ['prefect.artifacts', 5, 9223372036854775807n],
    ]);
    const token = encodeConsistencyToken(written);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeConsistencyToken(token)).toEqual(written);
  });

  it('is canonical: the same offsets in another order give the same token', () => {
    const a = offsets([
      ['b', 1, 2n],
      ['a', 0, 1n],
    ]);
    const b = offsets([
      ['a', 0, 1n],
      ['b', 1, 2n],
    ]);
    expect(encodeConsistencyToken(a)).toBe(encodeConsistencyToken(b));
  });

  it('merges by keeping the higher offset per partition', () => {
    const merged = mergeOffsets(offsets([['t', 0, 5n], ['t', 1, 9n]]), offsets([['t', 0, 7n], ['t', 1, 3n], ['u', 2, 1n]]));
    expect(merged).toEqual(offsets([['t', 0, 7n], ['t', 1, 9n], ['u', 2, 1n]]));
  });

  it('refuses to encode nothing', () => {
    expect(() => encodeConsistencyToken(new Map())).toThrow(InvalidConsistencyTokenError);
  });

  it.each([
    ['empty', '', /empty/],
    ['not base64url', 'abc+/=', /base64url/],
    ['non-canonical base64url', b64('{"v":1,"o":{"t":{"0":"1"}}}').slice(0, -1) + 'z', /base64url|JSON/],
    ['not JSON', b64('nope'), /JSON/],
    ['an array', b64('[1]'), /object/],
    ['another version', b64('{"v":2,"o":{"t":{"0":"1"}}}'), /version 2/],
    ['no version', b64('{"o":{"t":{"0":"1"}}}'), /version null/],
    ['extra fields', b64('{"v":1,"o":{"t":{"0":"1"}},"x":1}'), /unexpected fields/],
    ['no offsets', b64('{"v":1,"o":{}}'), /no partition/],
    ['a bad topic', b64('{"v":1,"o":{"a b":{"0":"1"}}}'), /topic name/],
    ['a topic without partitions', b64('{"v":1,"o":{"t":{}}}'), /no partitions/],
    ['a negative partition', b64('{"v":1,"o":{"t":{"-1":"1"}}}'), /not a partition/],
    ['a padded partition', b64('{"v":1,"o":{"t":{"01":"1"}}}'), /not a partition/],
    ['a number offset', b64('{"v":1,"o":{"t":{"0":1}}}'), /not an offset/],
    ['a negative offset', b64('{"v":1,"o":{"t":{"0":"-1"}}}'), /not an offset/],
    ['an offset past 2^63-1', b64('{"v":1,"o":{"t":{"0":"9223372036854775808"}}}'), /not an offset/],
    ['an overlong token', 'A'.repeat(9000), /longer than/],
  ])('refuses %s', (_, token, reason) => {
    expect(() => decodeConsistencyToken(token)).toThrow(InvalidConsistencyTokenError);
    expect(() => decodeConsistencyToken(token)).toThrow(reason);
  });
});

describe('offsetsOfSend', () => {
  const m = () => ({ key: null, value: Buffer.from('x') });

  it('on one partition: the base offset plus the messages sent, minus one', () => {
    const answer = [{ topicName: 't', partition: 2, errorCode: 0, baseOffset: '10' }];
    expect(offsetsOfSend('t', [m(), m(), m()], answer)).toEqual(offsets([['t', 2, 12n]]));
  });

  it('over several partitions: counts each message where the tracked partitioner put it', () => {
    const messages = [m(), m(), m()];
    const choices = [0, 1, 0];
    let i = 0;
    const partitioner = trackPartitions(() => () => choices[i++]!)();
    for (const message of messages) partitioner({ message });
    const answer = [
      { topicName: 't', partition: 0, errorCode: 0, baseOffset: '100' },
      { topicName: 't', partition: 1, errorCode: 0, baseOffset: '7' },
    ];
    expect(offsetsOfSend('t', messages, answer)).toEqual(offsets([['t', 0, 101n], ['t', 1, 7n]]));
  });

  it('cannot tell over several partitions without the tracked partitioner, nor without an answer (acks 0)', () => {
    const answer = [
      { topicName: 't', partition: 0, errorCode: 0, baseOffset: '1' },
      { topicName: 't', partition: 1, errorCode: 0, baseOffset: '1' },
    ];
    expect(offsetsOfSend('t', [m(), m()], answer)).toBeUndefined();
    expect(offsetsOfSend('t', [m()], [])).toBeUndefined();
    expect(offsetsOfSend('t', [m()], undefined)).toBeUndefined();
  });
});
