import { decodeMessage } from './cloudevents';
import { decodeConsistencyToken } from './consistency';
import { parseJson, rawJson } from './json';
import { buildEvent, BuiltEvent, createEventBuilders, EVENT_BUILDER_NAMES, eventBuilders, EventPublisher, InvalidEventError, ProducerRecordLike } from './producer';
import { ID, RUN, SAMPLES, T } from './testing/samples';
import { ARTIFACT_EVENT_TYPES, RUN_EVENT_TYPES, streamOf } from './topics';

const ALL_TYPES = [...ARTIFACT_EVENT_TYPES, ...RUN_EVENT_TYPES];

function rejection(build: () => unknown): InvalidEventError {
  try {
    build();
  } catch (error) {
    if (error instanceof InvalidEventError) return error;
    throw error;
  }
  throw new Error('expected InvalidEventError');
}

class FakeProducer {
  readonly records: ProducerRecordLike[] = [];
  async send(record: ProducerRecordLike): Promise<unknown> {
    this.records.push(record);
    return [];
  }
}

describe('buildEvent: every type, both bindings, decodable by the ingest app', () => {
  it.each(ALL_TYPES.flatMap((type) => (['structured', 'binary'] as const).map((mode) => [type, mode] as const)))('%s (%s)', (type, mode) => {
    const event = buildEvent(type, SAMPLES[type] as never, { mode, id: 'evt-1', source: '/billing/etl' });
    expect(event).toMatchObject({ type, id: 'evt-1', topic: streamOf(type) === 'artifacts' ? 'prefect.artifacts' : 'prefect.runs' });
    const decoded = decodeMessage(event.message, streamOf(type));
    if (!decoded.ok) throw new Error(decoded.message);
    expect(decoded.event).toMatchObject({ id: 'evt-1', source: '/billing/etl', type, subject: ID });
    if (mode === 'binary') expect(event.message.headers).toMatchObject({ ce_type: type, ce_id: 'evt-1', 'content-type': 'application/json' });
    else expect(event.message.headers).toEqual({ 'content-type': 'application/cloudevents+json' });
  });

  it('has one named builder per event type, and nothing else', () => {
    expect(Object.values(EVENT_BUILDER_NAMES).sort()).toEqual([...ALL_TYPES].sort());
    expect(Object.keys(eventBuilders).sort()).toEqual(Object.keys(EVENT_BUILDER_NAMES).sort());
    expect(eventBuilders.flowRunUpserted(SAMPLES['prefect.flow-run.upserted']).type).toBe('prefect.flow-run.upserted');
  });

  it('keys artifacts by their key (the empty key included), else by id; run events by the entity id', () => {
    expect(eventBuilders.artifactCreated({ id: ID, key: 'daily-report', created: T }).key).toBe('daily-report');
    expect(eventBuilders.artifactCreated({ id: ID, key: '', created: T }).key).toBe('');
    expect(eventBuilders.artifactCreated({ id: ID, created: T }).key).toBe(ID);
    expect(eventBuilders.artifactDeleted({ id: ID }).key).toBe(ID);
    expect(eventBuilders.taskRunDeleted({ id: RUN, updated: T }).key).toBe(RUN);
  });

  it('routes to configurable topic names', () => {
    const topics = { artifacts: 'eu.artifacts', runs: 'eu.runs' };
    expect(buildEvent('prefect.artifact.deleted', { id: ID }, { topics }).topic).toBe('eu.artifacts');
    expect(buildEvent('prefect.flow.deleted', { id: ID, updated: T }, { topics }).topic).toBe('eu.runs');
    expect(createEventBuilders({ topics: { runs: 'only-runs' } }).artifactDeleted({ id: ID }).topic).toBe('prefect.artifacts');
  });

  it('defaults the CloudEvent time to updated, else created; a random id per event', () => {
    const a = eventBuilders.artifactCreated({ id: ID, created: T });
    const b = eventBuilders.artifactCreated({ id: ID, created: T });
    expect(a.id).not.toBe(b.id);
    expect(JSON.parse(a.message.value.toString())).toMatchObject({ time: T, specversion: '1.0', subject: ID });
  });

  it('sends exact number literals (rawJson, or a lossless tree from parseJson)', () => {
    const raw = eventBuilders.artifactCreated({ id: ID, created: T, data: rawJson('{"x":1.0,"big":12345678901234567890}') });
    expect(raw.message.value.toString()).toContain('"data":{"x":1.0,"big":12345678901234567890}');
    const tree = parseJson(`{"id":"${ID}","key":"k","created":"${T}","data":[1.50,2]}`);
    const fromTree = buildEvent('prefect.artifact.created', tree);
    expect(fromTree.key).toBe('k');
    expect(fromTree.message.value.toString()).toContain('"data":[1.50,2]');
  });
});

describe('buildEvent: refuses what the ingest app would dead-letter, with its reason and message', () => {
  it.each([
    ['prefect.artifact.created', { id: 'nope', created: T }, 'invalid_payload', /id: invalid uuid "nope"/],
    ['prefect.artifact.created', { id: ID, key: 'Daily', created: T }, 'invalid_payload', /key: Artifact key must only contain lowercase letters/],
    ['prefect.artifact.created', { id: ID, created: T, metadata_: { rows: 5 } }, 'invalid_payload', /metadata_\.rows: metadata value must be a string/],
    ['prefect.artifact.created', { id: ID }, 'invalid_payload', /created: required/],
    ['prefect.flow-run.upserted', { id: ID, name: 'r', updated: 'yesterday' }, 'invalid_payload', /updated: invalid datetime/],
    ['prefect.deployment.upserted', { id: ID, name: 'd', updated: T, concurrency_limit: 1.5 }, 'invalid_payload', /concurrency_limit: must be an integer/],
    ['prefect.flow.upserted', { id: ID, updated: T }, 'invalid_payload', /name: required/],
    ['prefect.artifact.created.v2', { id: ID, created: T }, 'unknown_type', /unknown event type/],
  ] as const)('%s %j → %s', (type, data, reason, message) => {
    const error = rejection(() => buildEvent(type, data));
    expect(error).toMatchObject({ reason, type });
    expect(error.message).toMatch(message);
  });

  it('checks the envelope too: a bad time or an empty source', () => {
    expect(rejection(() => eventBuilders.flowDeleted({ id: ID, updated: T }, { time: '2024-06-01 10:00' })).reason).toBe('not_cloudevent');
    expect(rejection(() => eventBuilders.flowDeleted({ id: ID, updated: T }, { source: '' })).message).toMatch(/source/);
  });

  it('turns an unencodable value into invalid_payload, not a TypeError', () => {
    expect(rejection(() => buildEvent('prefect.artifact.created', { id: ID, created: T, data: { n: 1n } })).reason).toBe('invalid_payload');
  });
});

describe('EventPublisher', () => {
  it('publishes through the given producer with acks=-1, on the configured topic, keyed per the contract', async () => {
    const producer = new FakeProducer();
    const publisher = new EventPublisher(producer, { topics: { artifacts: 'a', runs: 'r' }, source: '/billing', mode: 'binary' });
    const event = await publisher.artifactCreated({ id: ID, key: 'daily-report', created: T });
    expect(producer.records).toEqual([{ topic: 'a', acks: -1, messages: [event.message] }]);
    expect(event.message.headers).toMatchObject({ ce_source: '/billing' });
    expect(event.message.key?.toString()).toBe('daily-report');
    await publisher.publish('prefect.flow.deleted', { id: ID, updated: T }, { mode: 'structured' });
    expect(producer.records[1]).toMatchObject({ topic: 'r', acks: -1 });
    expect(producer.records[1]!.messages[0]!.headers).toEqual({ 'content-type': 'application/cloudevents+json' });
  });

  it('sends a list with one send per run of the same topic, in order', async () => {
    const producer = new FakeProducer();
    const publisher = new EventPublisher(producer, { acks: 1 });
    const b = publisher.build;
    const events: BuiltEvent[] = [
      b.flowUpserted(SAMPLES['prefect.flow.upserted']),
      b.flowRunUpserted(SAMPLES['prefect.flow-run.upserted']),
      b.artifactCreated(SAMPLES['prefect.artifact.created']),
      b.artifactDeleted(SAMPLES['prefect.artifact.deleted']),
      b.taskRunDeleted(SAMPLES['prefect.task-run.deleted']),
    ];
    await publisher.send(events);
    expect(producer.records.map((r) => [r.topic, r.messages.length, r.acks])).toEqual([
      ['prefect.runs', 2, 1],
      ['prefect.artifacts', 2, 1],
      ['prefect.runs', 1, 1],
    ]);
    expect(producer.records.flatMap((r) => r.messages)).toEqual(events.map((e) => e.message));
  });

  it('returns the consistency token of what it sent: the highest offset per partition, merged over its sends', async () => {
    // An answer as a kafkajs producer gives it: each partition written once per send, from its base offset.
    let next = 10;
    const answering = {
      send: (record: ProducerRecordLike) => {
        const baseOffset = String(next);
        next += record.messages.length;
        return Promise.resolve([{ topicName: record.topic, partition: record.topic === 'prefect.runs' ? 1 : 0, errorCode: 0, baseOffset }]);
      },
    };
    const publisher = new EventPublisher(answering);
    const b = publisher.build;
    const token = await publisher.send([
      b.flowUpserted(SAMPLES['prefect.flow.upserted']),
      b.flowRunUpserted(SAMPLES['prefect.flow-run.upserted']),
      b.artifactCreated(SAMPLES['prefect.artifact.created']),
      b.flowDeleted({ id: ID, updated: T }),
    ]);
    // runs 10-11, artifacts 12, runs 13.
    expect(decodeConsistencyToken(token!)).toEqual(
      new Map([
        ['prefect.artifacts', new Map([[0, 12n]])],
        ['prefect.runs', new Map([[1, 13n]])],
      ]),
    );
    const published = await publisher.artifactDeleted(SAMPLES['prefect.artifact.deleted']);
    expect(decodeConsistencyToken(published.consistencyToken!)).toEqual(new Map([['prefect.artifacts', new Map([[0, 14n]])]]));
    // Nothing to go by (acks 0 answers nothing): no token rather than a wrong one.
    expect(await new EventPublisher(new FakeProducer()).send(b.flowDeleted({ id: ID, updated: T }))).toBeUndefined();
  });

  it('sends nothing when the event is invalid', async () => {
    const producer = new FakeProducer();
    const publisher = new EventPublisher(producer);
    await expect(publisher.artifactCreated({ id: ID, key: 'Bad Key', created: T })).rejects.toBeInstanceOf(InvalidEventError);
    expect(producer.records).toEqual([]);
  });

  it('lets a producer error through', async () => {
    const publisher = new EventPublisher({ send: () => Promise.reject(new Error('broker down')) });
    await expect(publisher.flowDeleted({ id: ID, updated: T })).rejects.toThrow('broker down');
  });
});
