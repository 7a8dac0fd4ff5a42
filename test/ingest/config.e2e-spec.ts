import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../../infra/local/apps';
import { createTestDatabase, TestDatabase } from '../support/database';
import { requireBrokers } from '../support/kafka';

jest.setTimeout(120_000);

// docs/operations.md: the ingest app refuses a malformed variable or a missing dependency
// with one clear line on stderr and a non-zero exit code, and never prints a password.

const MAIN = join(__dirname, '..', '..', 'dist', 'apps', 'ingest', 'main.js');

interface Outcome {
  code: number | null;
  signal: string | null;
  stderr: string;
  ms: number;
}

function runIngest(env: Record<string, string>, timeoutMs = 90_000): Promise<Outcome> {
  const started = Date.now();
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) =>
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr, ms: Date.now() - started });
    }),
  );
}

describe('ingest: bad configuration and missing dependencies', () => {
  let db: TestDatabase;
  let base: Record<string, string>;
  let closedKafkaPort: number;
  // The ingest gives up on an unreachable Kafka after kafkajs' retries (about 20 s): started
  // here, it waits beside the other cases instead of after them.
  let kafkaUnreachable: Promise<Outcome>;

  beforeAll(async () => {
    db = await createTestDatabase('config');
    base = {
      DATABASE_URL: db.url,
      KAFKA_BROKERS: requireBrokers().join(','),
      ARTIFACT_TOPIC: `config-${process.pid}.artifacts`,
      RUN_TOPIC: `config-${process.pid}.runs`,
      KAFKA_GROUP_ID: `config-${process.pid}`,
      INGEST_PORT: String(await freePort()),
    };
    closedKafkaPort = await freePort();
    kafkaUnreachable = runIngest({ ...base, KAFKA_BROKERS: `127.0.0.1:${closedKafkaPort}`, INGEST_PORT: String(await freePort()) });
  });

  afterAll(async () => {
    await kafkaUnreachable;
    await db?.drop();
  });

  const malformed: [string, Record<string, string>, RegExp][] = [
    ['KAFKA_TOPIC_PARTITIONS=abc', { KAFKA_TOPIC_PARTITIONS: 'abc' }, /^ingest: invalid configuration: KAFKA_TOPIC_PARTITIONS must be an integer/],
    ['KAFKA_TOPIC_PARTITIONS=0', { KAFKA_TOPIC_PARTITIONS: '0' }, /KAFKA_TOPIC_PARTITIONS/],
    ['DATABASE_URL=nonsense', { DATABASE_URL: 'nonsense' }, /^ingest: invalid configuration: DATABASE_URL/],
    ['DATABASE_URL with another scheme', { DATABASE_URL: 'mysql://root:sekret-pw@127.0.0.1/db' }, /^ingest: invalid configuration: DATABASE_URL/],
    ['INGEST_PORT=70000', { INGEST_PORT: '70000' }, /INGEST_PORT/],
    ['KAFKA_BROKERS without a port', { KAFKA_BROKERS: 'localhost' }, /KAFKA_BROKERS/],
    ['LOG_LEVEL=loud', { LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    ['the same topic twice', { RUN_TOPIC: 'same', ARTIFACT_TOPIC: 'same' }, /ARTIFACT_TOPIC and RUN_TOPIC/],
  ];

  test.each(malformed)('%s: one line on stderr, non-zero exit', async (_, env, line) => {
    const outcome = await runIngest({ ...base, ...env });
    expect(outcome.code).not.toBe(0);
    expect(outcome.code).not.toBeNull();
    expect(outcome.stderr.endsWith('\n')).toBe(true);
    expect(outcome.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(outcome.stderr).toMatch(line);
    expect(outcome.stderr).not.toContain('sekret-pw');
  });

  test('PostgreSQL unreachable (a closed port): one line naming it, without the password, non-zero exit', async () => {
    const closed = await freePort();
    const outcome = await runIngest({ ...base, DATABASE_URL: `postgres://postgres:sekret-pw@127.0.0.1:${closed}/artifacts` });
    expect(outcome.code).not.toBe(0);
    expect(outcome.code).not.toBeNull();
    expect(outcome.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(outcome.stderr).toMatch(new RegExp(`^ingest: cannot open PostgreSQL at .*127\\.0\\.0\\.1:${closed}`));
    expect(outcome.stderr).not.toContain('sekret-pw');
  });

  test('Kafka unreachable (a closed port): one line naming it, non-zero exit', async () => {
    const outcome = await kafkaUnreachable;
    expect(outcome.code).not.toBe(0);
    expect(outcome.code).not.toBeNull();
    expect(outcome.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(outcome.stderr).toMatch(new RegExp(`^ingest: cannot reach Kafka at 127\\.0\\.0\\.1:${closedKafkaPort}`));
    process.stderr.write(`config spec: Kafka unreachable reported after ${outcome.ms} ms\n`);
  });
});
