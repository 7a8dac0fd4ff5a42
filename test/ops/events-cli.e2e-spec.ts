import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForStatus } from '../../infra/local/apps';
import { requireBrokers } from '../support/kafka';
import { count, ingestCounts, IngestFixture } from '../support/ingest-fixture';
import { runCli, runCliFromSource } from './ops-support';

// `npm run events -- publish | tail | replay-dlq | lag` against the real broker and
// the built ingest app. The dead letters come from a real mistake: an ingest
// instance started with ARTIFACT_TOPIC and RUN_TOPIC swapped dead-letters every
// event as wrong_topic; once restarted with the right configuration, replaying
// the dead-letter topics fills the read model.

const T = (minutes: number) => new Date(Date.parse('2026-11-01T08:00:00Z') + minutes * 60_000).toISOString();

// Jest reads testTimeout globally, not per project: e2e specs set their own.
jest.setTimeout(120_000);

describe('ops: the events CLI', () => {
  let world: IngestFixture;
  let dir: string;
  let cliEnv: Record<string, string>;
  const flow = randomUUID();
  const flowRun = randomUUID();
  const artifacts = [randomUUID(), randomUUID(), randomUUID()];

  beforeAll(async () => {
    world = await IngestFixture.create('ops-cli');
    dir = mkdtempSync(join(tmpdir(), 'ops-cli-'));
    cliEnv = { KAFKA_BROKERS: requireBrokers().join(','), ARTIFACT_TOPIC: world.topics.artifacts, RUN_TOPIC: world.topics.runs };
  });

  afterAll(async () => {
    await world?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const lines = [
    { type: 'prefect.flow.upserted', data: { id: flow, name: 'etl', tags: ['ops'], created: T(0), updated: T(0) } },
    { type: 'prefect.artifact.created', data: { id: artifacts[0], key: 'Daily Report', created: T(1) } },
    { type: 'prefect.flow-run.upserted', mode: 'binary', data: { id: flowRun, flow_id: flow, name: 'brave-otter', state_type: 'COMPLETED', state_name: 'Completed', updated: T(2) } },
    'this is not json',
    { type: 'prefect.artifact.created', source: '/ops/cli-test', data: { id: artifacts[0], key: 'daily-report', type: 'table', data: '__RAW__', flow_run_id: flowRun, created: T(3) } },
    { type: 'prefect.artifact.created', data: { id: artifacts[1], key: 'daily-report', created: T(4) } },
    { type: 'prefect.artifact.created', id: 'evt-fixed-id', data: { id: artifacts[2], created: T(5) } },
    { type: 'prefect.artifact.updated', data: { id: artifacts[1], key: 'daily-report', updated: T(6), description: 'second version' } },
    { type: 'prefect.artifact.created', data: { id: randomUUID(), created: T(7) }, typo: 1 },
    { type: 'prefect.artifact.created.v2', data: { id: randomUUID(), created: T(7) } },
  ]
    .map((line) => (typeof line === 'string' ? line : JSON.stringify(line).replace('"__RAW__"', '{"x":1.0,"n":12345678901234567890}')))
    .join('\n');

  it('publish: sends the valid lines, reports the others by line number, exits 1', async () => {
    // The mistake: an instance whose topic variables are swapped.
    const misconfigured = await world.start({ ARTIFACT_TOPIC: world.topics.runs, RUN_TOPIC: world.topics.artifacts });
    const file = join(dir, 'events.ndjson');
    writeFileSync(file, `${lines}\n\n`);
    const result = await runCli(['publish', file], cliEnv);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(1);
    expect(result.stdout.split('\n')).toEqual([
      `published: 6 events (${world.topics.runs}: 2, ${world.topics.artifacts}: 4) from 11 lines`,
      'rejected: 4',
      expect.stringMatching(/^ {2}line 2: invalid_payload: invalid prefect\.artifact\.created data: key: Artifact key must only contain lowercase letters/),
      expect.stringMatching(/^ {2}line 4: invalid_line: not JSON/),
      '  line 9: invalid_line: unknown field "typo" (a line has type, data, id, source, time, subject, mode; or is a CloudEvent with specversion)',
      '  line 10: unknown_type: unknown event type "prefect.artifact.created.v2"',
      expect.stringMatching(/^consistency token: [A-Za-z0-9_-]+$/),
      '',
    ]);
    await waitForStatus(misconfigured, '/ready', 200);
    expect(await misconfigured.stop()).toBe(0);
    expect(await world.rowCount('artifact')).toBe(0);
    expect(await world.rowCount('flow')).toBe(0);
  });

  it('tail --dlq: one line per dead letter with its reason, error and source; bounded by --max', async () => {
    const json = await runCli(['tail', '--dlq', '--from-beginning', '--max', '6', '--idle-exit', '20', '--json'], cliEnv);
    expect(json.code).toBe(0);
    const letters = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { topic: string; type: string; key: string; id: string; dlq: { reason: string; error: string; source_topic: string } });
    expect(letters).toHaveLength(6);
    expect(letters.every((l) => l.dlq.reason === 'wrong_topic')).toBe(true);
    expect(letters.filter((l) => l.topic === `${world.topics.artifacts}.dlq` && l.dlq.source_topic === world.topics.artifacts)).toHaveLength(4);
    expect(letters.filter((l) => l.topic === `${world.topics.runs}.dlq` && l.dlq.source_topic === world.topics.runs)).toHaveLength(2);
    expect(letters.find((l) => l.id === 'evt-fixed-id')).toMatchObject({ type: 'prefect.artifact.created', key: artifacts[2] });
    expect(letters.find((l) => l.type === 'prefect.flow-run.upserted')?.dlq.error).toMatch(/belongs on the runs topic, not the artifacts topic/);

    const text = await runCli(['tail', '--dlq', '--topic', 'runs', '--from-beginning', '--idle-exit', '3'], cliEnv);
    expect(text.code).toBe(0);
    const shown = text.stdout.trim().split('\n');
    expect(shown).toHaveLength(2);
    // The event time, then the Kafka timestamp of the dead letter.
    expect(shown).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^${T(2).replace(/[.]/g, '\\.')} \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z ${world.topics.runs}\\.dlq\\[\\d\\]@\\d+ prefect\\.flow-run\\.upserted key=${flowRun} id=\\S+ reason=wrong_topic source=${world.topics.runs}\\[\\d\\]@\\d+ error="prefect\\.flow-run\\.upserted belongs on the runs topic`,
        ),
      ),
    );
  });

  it('tail: --value shows the payload, --json includes it; --key, --type, --partition, --offset and --since select', async () => {
    // A binary-mode event: its value is the data alone, pretty-printed under the line.
    const value = await runCli(['tail', '--dlq', '--topic', 'runs', '--from-beginning', '--type', 'prefect.flow-run.upserted', '--value', '--max', '1', '--idle-exit', '20'], cliEnv);
    expect(value.code).toBe(0);
    const [line, ...payload] = value.stdout.trimEnd().split('\n');
    expect(line).toMatch(/ prefect\.flow-run\.upserted key=/);
    expect(payload[0]).toBe('  {');
    expect(payload).toContain(`    "id": "${flowRun}",`);
    expect(payload).toContain('    "state_type": "COMPLETED",');

    // By key: the three artifact events keyed daily-report; the value keeps 1.0 and the big integer as published.
    const byKey = await runCli(['tail', '--dlq', '--from-beginning', '--key', 'daily-report', '--json', '--max', '3', '--idle-exit', '20'], cliEnv);
    const keyed = byKey.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { partition: number; offset: string; kafka_time: string; key: string; value: { specversion: string; source: string; data: { id: string } }; headers: Record<string, string> });
    expect(keyed).toHaveLength(3);
    expect(keyed.every((l) => l.key === 'daily-report' && l.headers['dlq-reason'] === 'wrong_topic')).toBe(true);
    const first = keyed.find((l) => l.value.data.id === artifacts[0])!;
    expect(first).toMatchObject({ value: { specversion: '1.0', source: '/ops/cli-test' } });
    expect(Date.parse(first.kafka_time)).toBeGreaterThan(Date.parse('2026-01-01T00:00:00Z'));
    expect(byKey.stdout).toContain('"data":{"x":1.0,"n":12345678901234567890}');
    const byType = await runCli(['tail', '--dlq', '--from-beginning', '--key', 'daily-report', '--type', 'prefect.artifact.updated', '--idle-exit', '5'], cliEnv);
    expect(byType.stdout.trim().split('\n')).toEqual([expect.stringMatching(/ prefect\.artifact\.updated key=daily-report /)]);

    // Straight to one message by partition and offset.
    const { partition, offset } = first;
    const exact = await runCli(['tail', '--dlq', '--topic', 'artifacts', '--partition', String(partition), '--offset', offset, '--max', '1', '--json', '--idle-exit', '20'], cliEnv);
    expect(exact.code).toBe(0);
    expect(JSON.parse(exact.stdout)).toMatchObject({ partition, offset, value: { data: { id: artifacts[0] } } });

    // --since: every dead letter is from the last hour, none from the future.
    const recent = await runCli(['tail', '--dlq', '--since', '1h', '--max', '6', '--idle-exit', '20'], cliEnv);
    expect(recent.stdout.trim().split('\n')).toHaveLength(6);
    const future = await runCli(['tail', '--dlq', '--since', new Date(Date.now() + 3_600_000).toISOString(), '--idle-exit', '3'], cliEnv);
    expect([future.code, future.stdout]).toEqual([0, '']);

    const bad = await runCli(['tail', '--since', 'yesterday'], cliEnv);
    expect([bad.code, bad.stderr]).toEqual([2, 'events: --since must be an RFC 3339 time (2026-11-28T10:00:00Z) or an age (90s, 15m, 2h, 1d), got "yesterday"\n']);
  });

  let ingest: Awaited<ReturnType<IngestFixture['start']>>;

  it('replay-dlq after the fix: the read model fills up, and replaying again changes nothing', async () => {
    ingest = await world.start();
    await waitForStatus(ingest, '/ready', 200);
    // A genuinely bad event, dead-lettered by the fixed instance: --filter leaves it alone.
    const bad = await runCli(['publish', '-', '--no-validate'], cliEnv, JSON.stringify({ type: 'prefect.artifact.created', data: { id: randomUUID(), key: 'Bad Key', created: T(8) } }));
    expect(bad.code).toBe(0);
    await waitForStatus(ingest, '/ready', 200);
    expect(count(await ingestCounts(ingest), 'dead_lettered', { reason: 'invalid_payload' })).toBe(1);

    // Without --filter, the invalid payload is left alone: replayed unchanged, it would only be dead-lettered again.
    const all = await runCli(['replay-dlq', '--dry-run'], cliEnv);
    expect(all.code).toBe(0);
    expect(all.stdout).toContain('would replay 6');
    expect(all.stdout).toContain('skipped 1 (would only be dead-lettered again: invalid_payload: 1; fix and publish them, or --force)');
    const refused = await runCli(['replay-dlq', '--filter', 'invalid_payload'], cliEnv);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^events: invalid_payload dead letters would only be dead-lettered again: .* or pass --force to replay them unchanged\n$/);
    const forced = await runCli(['replay-dlq', '--filter', 'invalid_payload', '--force', '--dry-run'], cliEnv);
    expect(forced.stdout).toContain('would replay 1');
    const typo = await runCli(['replay-dlq', '--filter', 'wrong-topic'], cliEnv);
    expect([typo.code, typo.stderr]).toEqual([2, 'events: unknown reason "wrong-topic" in --filter; valid reasons: invalid_json, not_cloudevent, unknown_type, invalid_payload, wrong_topic, rejected_by_database\n']);

    const dry = await runCli(['replay-dlq', '--filter', 'wrong_topic', '--dry-run'], cliEnv);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('would replay 6');
    expect(await world.rowCount('artifact')).toBe(0);

    const replay = await runCli(['replay-dlq', '--filter', 'wrong_topic'], cliEnv);
    expect(replay.stderr).toBe('');
    expect(replay.code).toBe(0);
    const [read, replayed, skipped] = replay.stdout.trim().split('\n');
    expect(read).toBe(`read 7 dead letters from ${world.topics.artifacts}.dlq, ${world.topics.runs}.dlq`);
    expect(replayed).toMatch(/^replayed 6 \(/);
    expect(replayed).toContain(`${world.topics.artifacts}: 4`);
    expect(replayed).toContain(`${world.topics.runs}: 2`);
    expect(skipped).toBe('skipped 1 (reason not in --filter: invalid_payload: 1)');

    await waitForStatus(ingest, '/ready', 200);
    const snapshot = async () => ({
      artifacts: await world.rowCount('artifact'),
      collections: (await world.db.dataSource.query(`SELECT key, latest_id::text, description FROM artifact_collection ORDER BY key`)) as unknown[],
      flows: await world.rowCount('flow'),
      runs: (await world.db.dataSource.query(`SELECT id::text, flow_id::text, state_type FROM flow_run`)) as unknown[],
      data: (await world.db.dataSource.query(`SELECT data::text AS data FROM artifact WHERE id = $1`, [artifacts[0]])) as unknown[],
    });
    const filled = await snapshot();
    expect(filled).toEqual({
      artifacts: 3,
      collections: [{ key: 'daily-report', latest_id: artifacts[1], description: 'second version' }],
      flows: 1,
      runs: [{ id: flowRun, flow_id: flow, state_type: 'COMPLETED' }],
      // Published from NDJSON without losing number literals.
      data: [{ data: '{"x":1.0,"n":12345678901234567890}' }],
    });

    const again = await runCli(['replay-dlq', '--topic', 'artifacts', '--filter', 'wrong_topic'], cliEnv);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('replayed 4');
    await waitForStatus(ingest, '/ready', 200);
    expect(await snapshot()).toEqual(filled);

    const lag = await runCli(['lag'], { INGEST_URL: ingest.url });
    expect(lag.code).toBe(0);
    const table = lag.stdout.trim().split('\n');
    expect(table[0]).toMatch(/^TOPIC\s+PARTITION\s+HIGH-WATER\s+CHECKPOINT\s+LAG\s+FRESHNESS$/);
    expect(table.filter((l) => l.startsWith(world.topics.artifacts))).toHaveLength(3);
    expect(table.filter((l) => l.startsWith(world.topics.runs))).toHaveLength(3);
    expect(table[table.length - 1]).toBe('total lag: 0 messages; caught up');
    const json = await runCli(['lag', '--json'], { INGEST_URL: ingest.url });
    const report = JSON.parse(json.stdout) as { caught_up: boolean; partitions: { lag: string; freshness_seconds: number | null }[] };
    expect(report.caught_up).toBe(true);
    expect(report.partitions.every((p) => p.lag === '0' && p.freshness_seconds === 0)).toBe(true);
  });

  it('publish takes CloudEvents as on the topic and lines of tail --json back, e.g. a dead letter fixed by hand', async () => {
    // What kcat would print: a structured CloudEvent, sent as it is.
    const fromKcat = randomUUID();
    const cloudEvent = JSON.stringify({ specversion: '1.0', id: `evt-${fromKcat}`, source: '/kcat', type: 'prefect.artifact.created', time: T(9), datacontenttype: 'application/json', data: { id: fromKcat, key: 'from-kcat', created: T(9) } });
    // The binary-mode flow-run dead letter, captured, given a new run id and published again.
    const captured = await runCli(['tail', '--dlq', '--topic', 'runs', '--from-beginning', '--type', 'prefect.flow-run.upserted', '--json', '--max', '1', '--idle-exit', '20'], cliEnv);
    const record = JSON.parse(captured.stdout) as { headers: Record<string, string>; value: { id: string; name: string } };
    expect(record.headers.ce_specversion).toBe('1.0');
    const secondRun = randomUUID();
    record.value.id = secondRun;
    record.value.name = 'edited-by-hand';
    record.headers.ce_id = `evt-${secondRun}`;
    const broken = JSON.stringify({ specversion: '1.0', id: 'x', source: '/kcat', type: 'prefect.artifact.created', time: 'soon', data: { id: 'nope', created: T(9) } });
    const published = await runCli(['publish', '-'], cliEnv, [cloudEvent, JSON.stringify(record), broken].join('\n'));
    expect(published.stdout.split('\n')).toEqual([
      `published: 2 events (${world.topics.artifacts}: 1, ${world.topics.runs}: 1) from 3 lines`,
      'rejected: 1',
      '  line 3: not_cloudevent: time: invalid RFC 3339 datetime "soon"; invalid prefect.artifact.created data: id: invalid uuid "nope"',
      expect.stringMatching(/^consistency token: [A-Za-z0-9_-]+$/),
      '',
    ]);
    expect(published.code).toBe(1);
    await waitForStatus(ingest, '/ready', 200);
    expect(await world.db.dataSource.query(`SELECT key FROM artifact WHERE id = $1`, [fromKcat])).toEqual([{ key: 'from-kcat' }]);
    expect(await world.db.dataSource.query(`SELECT name, flow_id::text FROM flow_run WHERE id = $1`, [secondRun])).toEqual([{ name: 'edited-by-hand', flow_id: flow }]);

    for (const command of ['publish', 'tail', 'replay-dlq', 'lag']) {
      const help = await runCli([command, '--help'], {});
      expect([help.code, help.stderr]).toEqual([0, '']);
      expect(help.stdout).toMatch(new RegExp(`^events ${command} `));
    }
  });

  it('fails with one line and a non-zero code: missing file, unreachable broker or app, bad usage', async () => {
    const missing = await runCli(['publish', join(dir, 'nope.ndjson')], cliEnv);
    expect([missing.code, missing.stderr]).toEqual([1, `events: cannot read ${join(dir, 'nope.ndjson')}: no such file\n`]);

    const port = await freePort();
    const broker = await runCli(['tail', '--max', '1'], { ...cliEnv, KAFKA_BROKERS: `127.0.0.1:${port}` });
    expect([broker.code, broker.stderr]).toEqual([1, `events: cannot reach Kafka at 127.0.0.1:${port}: no answer within 5 s\n`]);

    const app = await runCli(['lag'], { INGEST_URL: `http://127.0.0.1:${port}` });
    expect(app.code).toBe(1);
    expect(app.stderr).toMatch(new RegExp(`^events: cannot reach the ingest app at http://127\\.0\\.0\\.1:${port}/status: ECONNREFUSED\\n$`));

    // The npm script's own wiring (ts-node from the sources) gives the same answer as the built tool.
    for (const run of [runCli, runCliFromSource]) {
      const usage = await run(['replay-dlq', '--filter'], cliEnv);
      expect([usage.code, usage.stderr]).toEqual([2, 'events: --filter needs a value\n']);
    }
    const unknown = await runCli(['frobnicate'], cliEnv);
    expect(unknown.code).toBe(2);
    const topic = await runCli(['tail', '--topic', `${world.name}.missing`, '--max', '1'], cliEnv);
    expect([topic.code, topic.stderr]).toEqual([1, `events: no such topic: ${world.name}.missing\n`]);
  });
});
