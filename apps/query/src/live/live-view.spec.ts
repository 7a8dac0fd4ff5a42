import { ChangedRows, formatPosition, lastPerKey, LiveView, parsePosition, sseFrame, sseHeaders } from './live-view';

const at = (xid: number, id: number) => ({ xid: BigInt(xid), id: BigInt(id) });

describe('positions', () => {
  it('round-trip through the id text', () => {
    expect(parsePosition(formatPosition(at(12, 345)))).toEqual(at(12, 345));
  });
  it.each(['', 'x', '1', '1-', '-1', '1-2-3', '1.2', '123456789012345678901-1'])('refuse %p', (text) => {
    expect(parsePosition(text)).toBeUndefined();
  });
});

describe('sseFrame', () => {
  it('writes one data line per line of the payload and ends with a blank line', () => {
    expect(sseFrame({ event: 'upsert', id: '1-2', data: '{\n"a":1}' })).toBe('event: upsert\nid: 1-2\ndata: {\ndata: "a":1}\n\n');
    expect(sseFrame({ comment: 'heartbeat', id: '3-4' })).toBe(': heartbeat\nid: 3-4\n\n');
  });
});

describe('sseHeaders', () => {
  test('an event stream is neither cached nor buffered by a proxy, and names its request', () => {
    expect(sseHeaders('req-7')).toEqual({ 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no', 'x-request-id': 'req-7' });
  });
});

describe('lastPerKey', () => {
  it('keeps each key once, at its last position, in position order', () => {
    const changes = [
      { ...at(1, 1), key: 'a' },
      { ...at(1, 2), key: 'b' },
      { ...at(2, 3), key: 'a' },
      { ...at(2, 4), key: null },
    ];
    expect(lastPerKey(changes)).toEqual([
      { key: 'b', at: { ...at(1, 2), key: 'b' } },
      { key: 'a', at: { ...at(2, 3), key: 'a' } },
    ]);
  });
});

describe('LiveView', () => {
  const events = (frames: string[]) => frames.map((f) => /^event: (\w+)\nid: ([\d-]+)\ndata: (.*)\n\n$/s.exec(f)!.slice(1).join(' '));

  it('after a snapshot: upserts only changed rows, removes only keys the client holds', () => {
    const view = LiveView.fromSnapshot([
      ['a', '{"key":"a","v":1}'],
      ['b', '{"key":"b","v":1}'],
    ]);
    const changed = [
      { key: 'a', at: at(5, 1) },
      { key: 'b', at: at(5, 2) },
      { key: 'c', at: at(5, 3) },
      { key: 'd', at: at(5, 4) },
    ];
    const matching = new Map([
      ['a', '{"key":"a","v":1}'],
      ['c', '{"key":"c","v":1}'],
    ]);
    expect(events(view.apply(changed, matching))).toEqual(['remove 5-2 {"key":"b"}', 'upsert 5-3 {"key":"c","v":1}']);
    // c is now held; changed again, it is sent again; b is no longer held.
    expect(events(view.apply([{ key: 'c', at: at(6, 1) }, { key: 'b', at: at(6, 2) }], new Map([['c', '{"key":"c","v":2}']])))).toEqual([
      'upsert 6-1 {"key":"c","v":2}',
    ]);
  });

  it('after a resume: every changed key gives an upsert or a remove', () => {
    const view = LiveView.resumed();
    const frames = view.apply([{ key: 'a', at: at(1, 1) }, { key: 'b', at: at(1, 2) }], new Map([['a', '{"key":"a"}']]));
    expect(events(frames)).toEqual(['upsert 1-1 {"key":"a"}', 'remove 1-2 {"key":"b"}']);
  });

  it("shares a step's frames between subscribers, one per row text (two reads of a step may see two commits)", () => {
    const step = new ChangedRows();
    const changed = [{ key: 'a', at: at(7, 1) }];
    const one = LiveView.resumed().apply(changed, new Map([['a', '{"key":"a","v":1}']]), step);
    const two = LiveView.resumed().apply(changed, new Map([['a', '{"key":"a","v":2}']]), step);
    expect([...events(one), ...events(two)]).toEqual(['upsert 7-1 {"key":"a","v":1}', 'upsert 7-1 {"key":"a","v":2}']);
  });

  it('after a snapshot, with few held and matching keys among many changed: the same events, in position order', () => {
    const view = LiveView.fromSnapshot([
      ['k7', '{"key":"k7","v":1}'],
      ['k2', '{"key":"k2","v":1}'],
    ]);
    const changed = Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, at: at(8, i) }));
    const matching = new Map([
      ['k9', '{"key":"k9","v":1}'],
      ['k7', '{"key":"k7","v":2}'],
      ['k1', '{"key":"k1","v":1}'],
    ]);
    expect(events(view.apply(changed, matching))).toEqual(['upsert 8-1 {"key":"k1","v":1}', 'remove 8-2 {"key":"k2"}', 'upsert 8-7 {"key":"k7","v":2}', 'upsert 8-9 {"key":"k9","v":1}']);
  });
});
