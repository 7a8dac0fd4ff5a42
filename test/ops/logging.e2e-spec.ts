import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { EventPublisher } from '@app/contracts';
import { freePort, spawnApp, waitForStatus } from '../../infra/local/apps';
import { requireBrokers } from '../support/kafka';
import { IngestFixture } from '../support/ingest-fixture';

// Structured logs of the ingest app: JSON lines, a request id per HTTP request,
// one debug line per batch, LOG_LEVEL honoured, and never a password.

interface LogLine {
  level: number;
  time: number;
  msg: string;
  req?: { id: string; method: string; url: string };
  res?: { statusCode: number };
  [field: string]: unknown;
}

function jsonLines(stdout: string): LogLine[] {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as LogLine;
      } catch {
        throw new Error(`not a JSON log line: ${line}`);
      }
    });
}

// Jest reads testTimeout globally, not per project: e2e specs set their own.
jest.setTimeout(120_000);

describe('ops: ingest logs', () => {
  let world: IngestFixture;
  const role = `ops_role_${randomBytes(4).toString('hex')}`;
  // Characters that a URL must percent-encode, so both spellings are checked.
  const password = `Pa55:w0rd@${randomBytes(6).toString('hex')}/x`;
  const forbidden = [password, encodeURIComponent(password), password.replace(':', '%3A').replace('@', '%40').replace('/', '%2F')];

  function serverClient(): Client {
    return new Client({ connectionString: process.env.DATABASE_URL });
  }

  beforeAll(async () => {
    world = await IngestFixture.create('ops-logs');
    const client = serverClient();
    await client.connect();
    try {
      // A superuser of its own, so the app can migrate as it; pg escapes the literal.
      await client.query(`CREATE ROLE ${role} LOGIN SUPERUSER PASSWORD '${password.replace(/'/g, "''")}'`);
    } finally {
      await client.end();
    }
  });

  afterAll(async () => {
    await world?.close();
    const client = serverClient();
    await client.connect();
    await client.query(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
    await client.end();
  });

  function urlWithPassword(): string {
    const url = new URL(world.db.url);
    url.username = role;
    url.password = encodeURIComponent(password);
    return url.toString();
  }

  it('writes JSON lines with a request id per request and a debug line per batch, without the DATABASE_URL password', async () => {
    const databaseUrl = urlWithPassword();
    expect(databaseUrl).toContain(encodeURIComponent(password));
    const app = spawnApp('ingest', world.env({ INGEST_PORT: String(await freePort()), DATABASE_URL: databaseUrl, LOG_LEVEL: 'trace' }));
    world.apps.push(app);
    let stdout = '';
    app.child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    await waitForStatus(app, '/health', 200);

    const requestId = `ops-test-${randomUUID()}`;
    const health = await fetch(`${app.url}/health`, { headers: { 'x-request-id': requestId } });
    expect(health.headers.get('x-request-id')).toBe(requestId);
    const generated = (await fetch(`${app.url}/metrics`)).headers.get('x-request-id');
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    expect((await fetch(`${app.url}/no-such-route`)).status).toBe(404);
    const publisher = new EventPublisher(world.kafka.producer, { topics: world.topics });
    await publisher.flowUpserted({ id: randomUUID(), name: 'logged', updated: new Date().toISOString() });
    await waitForStatus(app, '/ready', 200);
    expect(await app.stop()).toBe(0);

    const lines = jsonLines(stdout);
    expect(lines.every((l) => typeof l.level === 'number' && typeof l.time === 'number' && typeof l.msg === 'string')).toBe(true);
    expect(lines.find((l) => l.req?.id === requestId)).toMatchObject({ level: 20, req: { method: 'GET', url: '/health' }, res: { statusCode: 200 } });
    expect(lines.find((l) => l.req?.id === generated)).toMatchObject({ req: { url: '/metrics' } });
    expect(lines.find((l) => l.req?.url === '/no-such-route')).toMatchObject({ level: 40, res: { statusCode: 404 } });
    expect(lines.find((l) => l.msg === 'batch applied')).toMatchObject({ level: 20, topic: world.topics.runs, messages: 1 });
    expect(lines.some((l) => l.msg === 'ingest started')).toBe(true);
    const everything = app.output() + stdout;
    for (const secret of forbidden) expect(everything).not.toContain(secret);
  });

  it('warns of each dead letter with reason, topic, partition and offset, never its payload, rate-limited', async () => {
    const app = spawnApp('ingest', world.env({ INGEST_PORT: String(await freePort()), LOG_LEVEL: 'info' }));
    world.apps.push(app);
    let stdout = '';
    app.child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    await waitForStatus(app, '/health', 200);
    const marker = `payload-${randomUUID()}`;
    const poison = Array.from({ length: 14 }, (_, i) => ({ key: `k${i}`, value: `{"specversion": "${marker}"` }));
    await world.kafka.send(world.topics.artifacts, poison);
    await waitForStatus(app, '/ready', 200);
    expect(await app.stop()).toBe(0);

    const lines = jsonLines(stdout);
    expect(lines.every((l) => l.name === 'ingest')).toBe(true);
    const each = lines.filter((l) => l.msg === 'message dead-lettered');
    expect(each.length).toBeGreaterThan(0);
    expect(each.length).toBeLessThanOrEqual(10);
    for (const line of each) {
      expect(line).toMatchObject({ level: 40, reason: 'invalid_json', topic: world.topics.artifacts, dlqTopic: `${world.topics.artifacts}.dlq` });
      expect(typeof line.partition).toBe('number');
      expect(line.offset).toMatch(/^\d+$/);
    }
    // What the limit held back is reported in one line per window, by reason.
    const held = lines.filter((l) => typeof l.msg === 'string' && l.msg.endsWith('more messages dead-lettered (not logged one by one)'));
    expect(held.every((l) => l.level === 40)).toBe(true);
    expect(each.length + held.reduce((sum, l) => sum + (l.byReason as { invalid_json: number }).invalid_json, 0)).toBe(14);
    expect(stdout).not.toContain(marker);
  });

  it('the query app: JSON lines named "query" from the first one; an x-request-id that is not a sane token is replaced', async () => {
    const port = await freePort();
    const app = spawnApp('query', { DATABASE_URL: world.db.url, QUERY_PORT: String(port), LOG_LEVEL: 'info' });
    world.apps.push(app);
    let stdout = '';
    app.child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    await waitForStatus(app, '/api/health', 200);
    const kept = await fetch(`${app.url}/api/artifacts/count`, { method: 'POST', headers: { 'x-request-id': 'trace-1.a_b' } });
    expect(kept.headers.get('x-request-id')).toBe('trace-1.a_b');
    for (const insane of ['has spaces', 'x'.repeat(65), 'quote"s', 'ütf-8']) {
      const response = await fetch(`${app.url}/api/artifacts/count`, { method: 'POST', headers: { 'x-request-id': Buffer.from(insane).toString('latin1') } });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    }
    expect(await app.stop()).toBe(0);
    const lines = jsonLines(stdout);
    expect(lines[0]).toMatchObject({ name: 'query', level: 30, msg: 'query started', port });
    expect(lines.every((l) => l.name === 'query')).toBe(true);
    expect(lines.filter((l) => l.msg === 'request').map((l) => l.reqId)).toContain('trace-1.a_b');
  });

  it('honours LOG_LEVEL: at warn, no info or debug lines', async () => {
    const app = spawnApp('ingest', world.env({ INGEST_PORT: String(await freePort()), LOG_LEVEL: 'warn' }));
    world.apps.push(app);
    let stdout = '';
    app.child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    await waitForStatus(app, '/health', 200);
    await fetch(`${app.url}/metrics`);
    await fetch(`${app.url}/nope`);
    expect(await app.stop()).toBe(0);
    const lines = jsonLines(stdout);
    expect(lines.filter((l) => l.level < 40)).toEqual([]);
    expect(lines.some((l) => l.req?.url === '/nope' && l.level === 40)).toBe(true);
  });

  it('a failed start names the dependency in one stderr line, without the DATABASE_URL or SASL password', async () => {
    const unreachable = new URL(urlWithPassword());
    unreachable.port = String(await freePort());
    const noDatabase = spawnApp('ingest', { ...world.env(), INGEST_PORT: String(await freePort()), DATABASE_URL: unreachable.toString(), LOG_LEVEL: 'trace' });
    expect(await noDatabase.exited).toBe(1);
    expect(noDatabase.output().trim().split('\n')).toEqual([expect.stringMatching(/^ingest: cannot open PostgreSQL at postgres:\/\/ops_role_\w+:\*\*\*@127\.0\.0\.1:\d+\/\w+: /)]);

    const saslPassword = `sasl-${randomBytes(8).toString('hex')}`;
    const noSasl = spawnApp('ingest', {
      ...world.env(),
      INGEST_PORT: String(await freePort()),
      KAFKA_BROKERS: requireBrokers().join(','),
      KAFKA_SASL_MECHANISM: 'plain',
      KAFKA_SASL_USERNAME: 'ops',
      KAFKA_SASL_PASSWORD: saslPassword,
      LOG_LEVEL: 'trace',
    });
    expect(await noSasl.exited).toBe(1);
    expect(noSasl.output()).toMatch(/^ingest: cannot reach Kafka at /);
    for (const secret of [...forbidden, saslPassword]) {
      expect(noDatabase.output()).not.toContain(secret);
      expect(noSasl.output()).not.toContain(secret);
    }
  });
});
