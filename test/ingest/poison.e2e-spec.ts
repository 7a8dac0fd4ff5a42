import { randomBytes, randomUUID } from 'node:crypto';
import { dlqTopic, encodeEvent, stringifyJson } from '@app/contracts';
import { AppProcess } from '../../infra/local/apps';
import { readAll } from '../support/kafka';
import { count, ingestCounts, IngestFixture, Outbound, ProducedMessage, Stream } from '../support/ingest-fixture';

jest.setTimeout(120_000);

// Issue #3 / docs/events.md rule 8: a bad message is never lost and never blocks. Each
// poison message lands in `<topic>.dlq` with its original key, value and headers plus
// the dead-letter headers, and the next event of the same key (same partition) is applied.

const CREATED = '2025-04-01T08:00:00Z';

interface PoisonCase {
  name: string;
  stream: Stream;
  reason: 'invalid_json' | 'not_cloudevent' | 'unknown_type' | 'invalid_payload' | 'wrong_topic';
  /** A fragment the `dlq-error` header must contain. */
  error: RegExp;
  message(key: string): Outbound;
}

const structured = (event: Record<string, unknown>, key: string, headers: Record<string, string> = {}): Outbound => ({
  key,
  value: stringifyJson({ specversion: '1.0', id: randomUUID(), source: '/tests/poison', time: CREATED, ...event }),
  headers: { 'content-type': 'application/cloudevents+json', ...headers },
});
const created = (data: Record<string, unknown>) => ({ type: 'prefect.artifact.created', data: { id: randomUUID(), type: 'markdown', created: CREATED, ...data } });

const CASES: PoisonCase[] = [
  {
    name: 'malformed JSON',
    stream: 'artifacts',
    reason: 'invalid_json',
    error: /./,
    message: (key) => ({ key, value: '{"specversion":"1.0","id":"x","data":{', headers: { 'content-type': 'application/cloudevents+json', traceparent: '00-abc-def-01' } }),
  },
  {
    name: 'an empty (null) value',
    stream: 'artifacts',
    reason: 'invalid_json',
    error: /empty/,
    message: (key) => ({ key, value: null }),
  },
  {
    name: 'JSON that is not a CloudEvent',
    stream: 'artifacts',
    reason: 'not_cloudevent',
    error: /specversion/,
    message: (key) => ({ key, value: '{"hello":"world"}' }),
  },
  {
    name: 'a binary-mode event with a bad ce_time',
    stream: 'artifacts',
    reason: 'not_cloudevent',
    error: /time/,
    message: (key) => ({
      key,
      value: stringifyJson({ id: randomUUID(), key, created: CREATED }),
      headers: { ce_specversion: '1.0', ce_id: randomUUID(), ce_type: 'prefect.artifact.created', ce_source: '/tests', ce_time: 'yesterday', 'content-type': 'application/json' },
    }),
  },
  {
    name: 'an unknown type',
    stream: 'artifacts',
    reason: 'unknown_type',
    error: /prefect\.artifact\.created\.v2/,
    message: (key) => structured({ ...created({ key }), type: 'prefect.artifact.created.v2' }, key),
  },
  {
    name: 'a run event on the artifact topic',
    stream: 'artifacts',
    reason: 'wrong_topic',
    error: /runs topic/,
    message: (key) => structured({ type: 'prefect.flow.upserted', data: { id: randomUUID(), name: 'f', updated: CREATED } }, key),
  },
  {
    name: 'a bad UUID',
    stream: 'artifacts',
    reason: 'invalid_payload',
    error: /id: invalid uuid/,
    message: (key) => structured(created({ key, id: 'not-a-uuid' }), key),
  },
  {
    name: 'a bad datetime (binary binding)',
    stream: 'artifacts',
    reason: 'invalid_payload',
    error: /created: invalid datetime/,
    message: (key) => encodeEvent('prefect.artifact.created', { id: randomUUID(), key, created: '2025-02-30T10:00:00Z' }, { mode: 'binary', time: CREATED }),
  },
  {
    name: 'a metadata value that is not a string',
    stream: 'artifacts',
    reason: 'invalid_payload',
    error: /metadata value must be a string/,
    message: (key) => structured(created({ key, metadata_: { rows: 3 } }), key),
  },
  {
    name: 'an uppercase artifact key',
    stream: 'artifacts',
    reason: 'invalid_payload',
    error: /key: Artifact key must only contain lowercase letters/,
    // Keyed by its (invalid) artifact key, as a producer following the contract would.
    message: (key) => structured(created({ key: `Upper-${key}` }), `Upper-${key}`),
  },
  {
    name: 'a missing required field',
    stream: 'artifacts',
    reason: 'invalid_payload',
    error: /created: required/,
    message: (key) => structured({ type: 'prefect.artifact.created', data: { id: randomUUID(), key } }, key),
  },
  {
    name: 'a 900 KB payload of the wrong shape',
    stream: 'artifacts',
    reason: 'invalid_payload',
    error: /data: must be a JSON object/,
    message: (key) => structured({ type: 'prefect.artifact.created', data: Array.from({ length: 9_000 }, () => randomBytes(48).toString('hex')) }, key),
  },
  {
    name: 'a run snapshot with a bad UUID (run topic)',
    stream: 'runs',
    reason: 'invalid_payload',
    error: /flow_id: invalid uuid/,
    message: (key) => encodeEvent('prefect.flow-run.upserted', { id: key, flow_id: '1234', name: 'bad', updated: CREATED }),
  },
];

describe('ingest: poison messages go to <topic>.dlq and do not block their partition', () => {
  let world: IngestFixture;
  let ingest: AppProcess;
  const poison = new Map<PoisonCase, ProducedMessage>();
  const followUps = new Map<PoisonCase, { id: string; produced: ProducedMessage }>();
  let dead: Awaited<ReturnType<typeof readAll>>;
  let startedAt: string;
  let readAt: string;

  beforeAll(async () => {
    world = await IngestFixture.create('poison', { partitions: 3 });
    ingest = await world.start();
    startedAt = new Date().toISOString();
    // Each poison message, then a valid event with the same Kafka key (so the same partition).
    for (const [i, c] of CASES.entries()) {
      const key = c.stream === 'runs' ? randomUUID() : `poison-${i}-${randomUUID().slice(0, 8)}`;
      const message = c.message(key);
      const kafkaKey = String(message.key);
      const id = c.stream === 'runs' ? kafkaKey : randomUUID();
      const next =
        c.stream === 'runs'
          ? encodeEvent('prefect.flow-run.upserted', { id, name: 'healthy', updated: CREATED })
          : encodeEvent('prefect.artifact.created', { id, key: /^[a-z0-9-]*$/.test(kafkaKey) ? kafkaKey : null, created: CREATED }, { key: kafkaKey });
      const [bad, good] = await world.produce(c.stream, [message, next]);
      expect(good!.partition).toBe(bad!.partition);
      expect(bad!.event).toBeUndefined();
      expect(good!.event).toBeDefined();
      poison.set(c, bad!);
      followUps.set(c, { id, produced: good! });
    }
    await world.caughtUp(ingest);
    const artifactsDlq = await readAll(world.kafka.kafka, world.kafka.admin, dlqTopic(world.topics.artifacts));
    const runsDlq = await readAll(world.kafka.kafka, world.kafka.admin, dlqTopic(world.topics.runs));
    readAt = new Date().toISOString();
    dead = [...artifactsDlq.map((m) => ({ ...m, topic: dlqTopic(world.topics.artifacts) })), ...runsDlq.map((m) => ({ ...m, topic: dlqTopic(world.topics.runs) }))];
  });

  afterAll(async () => {
    await world?.close();
  });

  test('exactly one dead letter per poison message, no more', () => {
    const sources = dead.map((m) => `${m.headers['dlq-source-topic']}/${m.headers['dlq-source-partition']}/${m.headers['dlq-source-offset']}`).sort();
    const expected = [...poison.values()].map((p) => `${p.topic}/${p.partition}/${p.offset}`).sort();
    expect(sources).toEqual(expected);
  });

  test.each(CASES.map((c) => [c.name, c] as const))('%s: dead-lettered with its original key, value and headers and the dlq-* headers', (_, c) => {
    const source = poison.get(c)!;
    const letter = dead.find((m) => m.headers['dlq-source-topic'] === source.topic && m.headers['dlq-source-offset'] === source.offset && m.headers['dlq-source-partition'] === String(source.partition));
    expect(letter).toBeDefined();
    expect((letter as { topic?: string }).topic).toBe(dlqTopic(source.topic));
    expect(letter!.key?.toString()).toBe(source.message.key?.toString());
    if (source.message.value === null) expect(letter!.value === null || letter!.value.length === 0).toBe(true);
    else expect(letter!.value?.equals(source.message.value)).toBe(true);
    for (const [name, value] of Object.entries(source.message.headers)) expect([name, letter!.headers[name]]).toEqual([name, value]);
    expect(letter!.headers['dlq-reason']).toBe(c.reason);
    expect(letter!.headers['dlq-error']).toMatch(c.error);
    // A canonical UTC timestamp, written after the spec began producing and before it read the letter back (order, not duration).
    const failedAt = letter!.headers['dlq-failed-at'] ?? '';
    expect(new Date(failedAt).toISOString()).toBe(failedAt);
    expect([startedAt <= failedAt, failedAt <= readAt]).toEqual([true, true]);
  });

  test.each(CASES.map((c) => [c.name, c] as const))('%s: the next event of the same key is applied', async (_, c) => {
    const { id } = followUps.get(c)!;
    const tables = await world.tables();
    const rows: { id: string }[] = c.stream === 'runs' ? tables.flow_run : tables.artifact;
    expect(rows.map((r) => r.id)).toContain(id);
  });

  test('the read model is exactly the fold of the valid events; checkpoints passed every poison offset; metrics count each reason', async () => {
    expect(await world.tables()).toEqual(world.oracle());
    const checkpoints = await world.checkpoints();
    for (const p of poison.values()) expect(checkpoints.get(`${p.topic}:${p.partition}`)! > BigInt(p.offset)).toBe(true);
    const text = await ingestCounts(ingest);
    expect(count(text, 'dead_lettered')).toBe(CASES.length);
    for (const reason of new Set(CASES.map((c) => c.reason))) {
      expect([reason, count(text, 'dead_lettered', { reason })]).toEqual([reason, CASES.filter((c) => c.reason === reason).length]);
    }
    expect(count(text, 'applied')).toBe(CASES.length);
  });
});
