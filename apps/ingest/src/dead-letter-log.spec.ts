import { DeadLetterLog } from './dead-letter-log';

describe('DeadLetterLog', () => {
  const letter = (offset: number, reason = 'invalid_json') => ({ reason, topic: 'a', partition: 1, offset: String(offset) });

  it('warns once per dead letter with reason, topic, partition and offset; holds back the excess of a window and reports it by reason', () => {
    const lines: { fields: Record<string, unknown>; msg: string }[] = [];
    let now = 1_000;
    const log = new DeadLetterLog({ warn: ((fields: Record<string, unknown>, msg: string) => lines.push({ fields, msg })) as never }, 2, 10_000, () => now);
    log.note(letter(1), 'a.dlq');
    log.note(letter(2, 'invalid_payload'), 'a.dlq');
    log.note(letter(3), 'a.dlq');
    log.note(letter(4, 'invalid_payload'), 'a.dlq');
    log.note(letter(5), 'a.dlq');
    expect(lines).toEqual([
      { fields: { reason: 'invalid_json', topic: 'a', partition: 1, offset: '1', dlqTopic: 'a.dlq' }, msg: 'message dead-lettered' },
      { fields: { reason: 'invalid_payload', topic: 'a', partition: 1, offset: '2', dlqTopic: 'a.dlq' }, msg: 'message dead-lettered' },
    ]);
    now += 10_000;
    log.note(letter(6), 'a.dlq');
    expect(lines.slice(2)).toEqual([
      { fields: { count: 3, byReason: { invalid_json: 2, invalid_payload: 1 }, windowSeconds: 10 }, msg: '3 more messages dead-lettered (not logged one by one)' },
      { fields: { reason: 'invalid_json', topic: 'a', partition: 1, offset: '6', dlqTopic: 'a.dlq' }, msg: 'message dead-lettered' },
    ]);
    log.flush();
    expect(lines).toHaveLength(4);
  });
});
