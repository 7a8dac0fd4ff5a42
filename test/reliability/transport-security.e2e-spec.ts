import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, Partitioners, Producer } from 'kafkajs';
import { Client } from 'pg';
import { buildEvent, createTopicsSettled, dlqTopic } from '@app/contracts';
import { runCli } from '../ops/ops-support';
import { AppProcess, freePort, spawnApp, waitFor, waitForStatus } from '../../infra/local/apps';
import { SecureInfra, startSecureInfra } from '../support/secure-infra';
import { createTestCertificates, TestCertificates } from '../support/tls';

// Kafka SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) and TLS, and PostgreSQL TLS, set up
// only through the environment of README "Environment", against a private broker and
// PostgreSQL configured that way (certificates made by openssl at test time). Each
// mechanism gets one ingest start: it must consume an event into the read model over
// that listener while every one of its PostgreSQL connections is TLS.

const T = '2026-11-20T08:00:00Z';

describe('transport security: Kafka SASL / TLS and PostgreSQL TLS through the environment', () => {
  let dir: string;
  let certs: TestCertificates;
  let infra: SecureInfra;
  let kafka: Kafka;
  let producer: Producer;
  let db: Client;
  const apps: AppProcess[] = [];
  const topics = { artifacts: 'secure.artifacts', runs: 'secure.runs' };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'transport-security-'));
    certs = createTestCertificates(dir);
    infra = await startSecureInfra(dir, certs);
    // The test's own access is the broker's PLAINTEXT listener and a non-TLS PostgreSQL connection.
    kafka = new Kafka({ clientId: 'transport-security', brokers: [infra.plaintext], logLevel: logLevel.NOTHING, connectionTimeout: 3000 });
    const admin = kafka.admin();
    await admin.connect();
    await createTopicsSettled(
      admin,
      [topics.artifacts, topics.runs].flatMap((topic) => [topic, dlqTopic(topic)]).map((topic) => ({ topic, numPartitions: 3, replicationFactor: 1 })),
    );
    await admin.disconnect();
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
    await producer.connect();
    db = new Client({ connectionString: infra.postgres.databaseUrl });
    await db.connect();
  });

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.stop()));
    await producer?.disconnect().catch(() => undefined);
    await db?.end().catch(() => undefined);
    await infra?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const requireUrl = (): string => `${infra.postgres.databaseUrl}?sslmode=require`;
  const verifyFullUrl = (caFile: string): string => `${infra.postgres.databaseUrl}?sslmode=verify-full&sslrootcert=${encodeURIComponent(caFile)}`;

  const artifactLine = (id: string, key: string) => ({ type: 'prefect.artifact.created' as const, data: { id, key, type: 'markdown', data: `# ${key}`, created: T } });

  async function publish(key: string): Promise<string> {
    const id = randomUUID();
    const line = artifactLine(id, key);
    const event = buildEvent(line.type, line.data, { topics });
    await producer.send({ topic: event.topic, acks: -1, messages: [event.message] });
    return id;
  }

  async function artifactKey(id: string): Promise<string | undefined> {
    const { rows } = await db.query<{ key: string }>('SELECT key FROM artifact WHERE id = $1', [id]);
    return rows[0]?.key;
  }

  /** `ssl` of every PostgreSQL connection of `applicationName` (pg_stat_ssl joined to pg_stat_activity). */
  async function connectionsTls(applicationName: string): Promise<boolean[]> {
    const { rows } = await db.query<{ ssl: boolean }>(
      'SELECT s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s ON s.pid = a.pid WHERE a.application_name = $1',
      [applicationName],
    );
    return rows.map((r) => r.ssl);
  }

  async function startIngest(env: Record<string, string>): Promise<AppProcess> {
    const app = spawnApp('ingest', {
      ARTIFACT_TOPIC: topics.artifacts,
      RUN_TOPIC: topics.runs,
      KAFKA_GROUP_ID: 'secure-ingest',
      KAFKA_TOPIC_PARTITIONS: '3',
      INGEST_PORT: String(await freePort()),
      LOG_LEVEL: 'debug',
      ...env,
    });
    apps.push(app);
    return app;
  }

  /** One ingest start: it consumes `id` into the read model over Kafka `env`, with TLS-only PostgreSQL connections. */
  async function consumesOver(env: Record<string, string>, id: string, key: string, secrets: string[]): Promise<void> {
    const app = await startIngest(env);
    await waitForStatus(app, '/health', 200);
    expect(await waitFor(`artifact ${key} in the read model`, () => artifactKey(id))).toBe(key);
    const tls = await connectionsTls('artifact-ingest');
    expect(tls.length).toBeGreaterThan(0);
    expect(tls.every(Boolean)).toBe(true);
    expect(await app.stop()).toBe(0);
    expect(app.output()).toContain('"msg":"ingest started"');
    // node-postgres' own reading of sslmode would print a multi-line warning (and refuse `require` with a private CA)
    expect(app.output()).not.toContain('SECURITY WARNING');
    for (const secret of secrets) expect(app.output()).not.toContain(secret);
  }

  it('the check can tell: the test’s own PostgreSQL connection is not TLS', async () => {
    const { rows } = await db.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
    expect(rows).toEqual([{ ssl: false }]);
  });

  it('SASL PLAIN (SASL_PLAINTEXT listener); DATABASE_URL with sslmode=require', async () => {
    const { username, password } = infra.users.plain;
    const id = await publish('over-sasl-plain');
    await consumesOver(
      { KAFKA_BROKERS: infra.saslPlaintext, KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: username, KAFKA_SASL_PASSWORD: password, DATABASE_URL: requireUrl() },
      id,
      'over-sasl-plain',
      [password],
    );
  });

  it('SASL SCRAM-SHA-256 (SASL_PLAINTEXT listener); DATABASE_URL with sslmode=verify-full and sslrootcert', async () => {
    const { username, password } = infra.users.scram256;
    const id = await publish('over-scram-256');
    await consumesOver(
      { KAFKA_BROKERS: infra.saslPlaintext, KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: username, KAFKA_SASL_PASSWORD: password, DATABASE_URL: verifyFullUrl(certs.caFile) },
      id,
      'over-scram-256',
      [password],
    );
  });

  it('SASL SCRAM-SHA-512 inside TLS (SASL_SSL listener): `npm run events -- publish` and the ingest app with the same variables', async () => {
    const { username, password } = infra.users.scram512;
    const kafkaEnv = {
      KAFKA_BROKERS: infra.saslSsl,
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: certs.caFile,
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SASL_USERNAME: username,
      KAFKA_SASL_PASSWORD: password,
    };
    const id = randomUUID();
    const file = join(dir, 'scram-512.ndjson');
    writeFileSync(file, `${JSON.stringify(artifactLine(id, 'over-scram-512-tls'))}\n`);
    const published = await runCli(['publish', file], { ...kafkaEnv, ARTIFACT_TOPIC: topics.artifacts, RUN_TOPIC: topics.runs });
    expect(published).toMatchObject({ code: 0, stderr: '' });
    expect(published.stdout).toContain(`published: 1 event (${topics.artifacts}: 1) from 1 line`);
    await consumesOver({ ...kafkaEnv, DATABASE_URL: verifyFullUrl(certs.caFile) }, id, 'over-scram-512-tls', [password]);
  });

  it('TLS (SSL listener) with KAFKA_SSL_CA_FILE; DATABASE_URL with sslmode=require', async () => {
    const id = await publish('over-tls');
    await consumesOver({ KAFKA_BROKERS: infra.ssl, KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: certs.caFile, DATABASE_URL: requireUrl() }, id, 'over-tls', []);
  });

  it('a wrong SASL password: the ingest app exits 1 with one line naming the failure, and the password is nowhere in its output', async () => {
    const wrong = `wrong-${randomUUID()}`;
    const app = await startIngest({
      KAFKA_BROKERS: infra.saslPlaintext,
      KAFKA_SASL_MECHANISM: 'scram-sha-256',
      KAFKA_SASL_USERNAME: infra.users.scram256.username,
      KAFKA_SASL_PASSWORD: wrong,
      DATABASE_URL: requireUrl(),
      LOG_LEVEL: 'trace',
    });
    expect(await app.exited).toBe(1);
    const lines = app.output().trim().split('\n');
    expect(lines).toEqual([expect.stringMatching(/^ingest: cannot reach Kafka at 127\.0\.0\.1:\d+: SASL SCRAM SHA256 authentication failed: .*invalid credentials/)]);
    expect(app.output()).not.toContain(wrong);
  });

  it('a bad KAFKA_SASL_MECHANISM: exit 1 with one configuration line', async () => {
    const app = await startIngest({ KAFKA_BROKERS: infra.saslPlaintext, KAFKA_SASL_MECHANISM: 'scram-sha-1', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'pw-not-shown', DATABASE_URL: requireUrl() });
    expect(await app.exited).toBe(1);
    expect(app.output()).toBe('ingest: invalid configuration: KAFKA_SASL_MECHANISM must be plain, scram-sha-256, scram-sha-512, got "scram-sha-1"\n');
  });

  it('the query app serves over TLS-only PostgreSQL connections (sslmode=require); verify-full against a CA that did not sign the server is refused', async () => {
    const id = await publish('read-through-tls');
    const ingest = await startIngest({ KAFKA_BROKERS: infra.plaintext, DATABASE_URL: requireUrl() });
    await waitForStatus(ingest, '/health', 200);
    await waitFor('artifact read-through-tls in the read model', () => artifactKey(id));
    expect(await ingest.stop()).toBe(0);

    const query = spawnApp('query', { DATABASE_URL: requireUrl(), QUERY_PORT: String(await freePort()) });
    apps.push(query);
    await waitForStatus(query, '/api/ready', 200);
    const response = await fetch(`${query.url}/api/artifacts/${id}`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ id, key: 'read-through-tls' });
    const tls = await connectionsTls('artifact-query');
    expect(tls.length).toBeGreaterThan(0);
    expect(tls.every(Boolean)).toBe(true);
    expect(await query.stop()).toBe(0);

    const untrusted = spawnApp('query', { DATABASE_URL: verifyFullUrl(certs.otherCaFile), QUERY_PORT: String(await freePort()) });
    apps.push(untrusted);
    expect(await untrusted.exited).toBe(1);
    expect(untrusted.output().trim().split('\n')).toEqual([expect.stringMatching(/^query: PostgreSQL is unreachable at 127\.0\.0\.1:\d+\/artifacts: .*certificate/)]);
  });
});
