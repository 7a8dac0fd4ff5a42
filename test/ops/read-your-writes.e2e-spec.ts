import { randomUUID } from 'node:crypto';
import { encodeConsistencyToken } from '@app/contracts';
import { AppProcess, freePort, spawnApp, waitForStatus } from '../../infra/local/apps';
import { requireBrokers } from '../support/kafka';
import { runCli } from './ops-support';
import { IngestFixture } from '../support/ingest-fixture';

// Read your writes (issue #15, point 2) through real Kafka and PostgreSQL: the events CLI
// prints the consistency token of what it published, a query carrying it in
// X-Consistency-Token sees those events, a token the read model has not reached is a 504
// that says how far behind it is, a malformed one a 422, and `publish --wait` returns
// once the read model has applied what it sent.

jest.setTimeout(180_000);

const T = (minutes: number) => new Date(Date.parse('2026-11-02T08:00:00Z') + minutes * 60_000).toISOString();
const TOKEN_LINE = /^consistency token: ([A-Za-z0-9_-]+)$/m;

describe('read your writes: X-Consistency-Token', () => {
  let world: IngestFixture;
  let ingest: AppProcess | undefined;
  // Waits long enough for a busy machine; `impatient` gives up quickly, for the 504s.
  let patient: AppProcess;
  let impatient: AppProcess;
  let cliEnv: Record<string, string>;

  const startQuery = async (timeoutMs: number) => {
    const app = spawnApp('query', world.env({ QUERY_PORT: String(await freePort()), QUERY_READ_AFTER_TIMEOUT_MS: String(timeoutMs) }));
    world.apps.push(app);
    await waitForStatus(app, '/api/health', 200);
    return app;
  };
  const line = (id: string, key: string, minute: number) => JSON.stringify({ type: 'prefect.artifact.created', data: { id, key, type: 'markdown', data: `# ${key}`, created: T(minute) } });
  const publish = async (lines: string[], args: string[] = []) => {
    const result = await runCli(['publish', '-', ...args], cliEnv, lines.join('\n') + '\n');
    expect(result.stderr).toBe('');
    return { ...result, token: TOKEN_LINE.exec(result.stdout)?.[1] };
  };
  const query = (app: AppProcess, path: string, token?: string, body?: unknown) =>
    fetch(app.url + path, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { 'x-consistency-token': token }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  beforeAll(async () => {
    world = await IngestFixture.create('ryw', { partitions: 3 });
    ingest = await world.start();
    [patient, impatient] = await Promise.all([startQuery(120_000), startQuery(300)]);
    cliEnv = { KAFKA_BROKERS: requireBrokers().join(','), ARTIFACT_TOPIC: world.topics.artifacts, RUN_TOPIC: world.topics.runs, QUERY_URL: patient.url };
  });

  afterAll(async () => {
    await world?.close();
  });

  it('a query with the token printed by publish sees what was just published', async () => {
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const published = await publish([line(ids[0]!, 'ryw-alpha', 1), line(ids[1]!, 'ryw-beta', 2), line(ids[2]!, 'ryw-gamma', 3)]);
    expect(published.code).toBe(0);
    expect(published.token).toBeDefined();

    // Immediately: no polling on the client's side, the query app waits.
    const filtered = await query(patient, '/api/artifacts/filter', published.token, { sort: 'CREATED_DESC' });
    expect(filtered.status).toBe(200);
    expect(((await filtered.json()) as { id: string }[]).map((a) => a.id).sort()).toEqual([...ids].sort());

    const byId = await query(patient, `/api/artifacts/${ids[1]}`, published.token);
    expect(byId.status).toBe(200);
    expect(await byId.json()).toMatchObject({ id: ids[1], key: 'ryw-beta' });
    const byKey = await query(patient, '/api/artifacts/ryw-gamma/latest', published.token);
    expect(byKey.status).toBe(200);
    const count = await query(patient, '/api/artifacts/latest/count', published.token, {});
    expect(await count.text()).toBe('3');
  });

  it('without the header nothing changes; a malformed token is a 422 in the {detail} shape', async () => {
    const plain = await query(impatient, '/api/artifacts/count', undefined, {});
    expect(plain.status).toBe(200);

    for (const bad of ['not a token', 'eyJ2IjoyfQ', encodeConsistencyToken(new Map([['some.other.topic', new Map([[0, 1n]])]]))]) {
      const response = await query(impatient, '/api/artifacts/count', bad, {});
      expect(response.status).toBe(422);
      const body = (await response.json()) as Record<string, unknown>;
      expect(Object.keys(body)).toEqual(['detail']);
      expect(body.detail).toMatch(/^Invalid X-Consistency-Token header: /);
    }
    const onGet = await query(impatient, `/api/artifacts/${randomUUID()}`, 'eyJ2IjoyfQ');
    expect(onGet.status).toBe(422);
  });

  it('a token ahead of the read model answers 504 with the lag per partition', async () => {
    const ahead = encodeConsistencyToken(new Map([[world.topics.artifacts, new Map([[0, 1_000_000n]])]]));
    const response = await query(impatient, '/api/artifacts/filter', ahead, {});
    expect(response.status).toBe(504);
    const body = (await response.json()) as { detail: string };
    expect(Object.keys(body)).toEqual(['detail']);
    expect(body.detail).toContain('The read model has not applied the consistency token within 300 ms');
    expect(body.detail).toMatch(new RegExp(`${world.topics.artifacts.replaceAll('.', '\\.')}/0: (\\d+ behind|nothing applied yet)`));
  });

  it('with the ingest app stopped: 504 naming the partition; publish --wait returns once it is back and has applied the events', async () => {
    expect(await ingest!.stop()).toBe(0);
    ingest = undefined;
    const id = randomUUID();
    const stalled = await publish([line(id, 'ryw-stalled', 10)]);
    expect(stalled.code).toBe(0);
    const late = await query(impatient, `/api/artifacts/${id}`, stalled.token);
    expect(late.status).toBe(504);
    expect(((await late.json()) as { detail: string }).detail).toMatch(new RegExp(`${world.topics.artifacts.replaceAll('.', '\\.')}/\\d+: (1 behind|nothing applied yet)`));

    // --wait while nothing applies: it keeps asking, and gives up with the lag once its own timeout is spent.
    // (What follows the colon is the last 504's lag, unless a busy machine cut even the first request short.)
    const gaveUp = await runCli(['publish', '-', '--wait', '--wait-timeout', '2'], { ...cliEnv, QUERY_URL: impatient.url }, line(randomUUID(), 'ryw-given-up', 11) + '\n');
    expect(gaveUp.code).toBe(1);
    expect(gaveUp.stdout).toMatch(TOKEN_LINE);
    expect(gaveUp.stdout).not.toContain('applied by the read model');
    expect(gaveUp.stderr).toMatch(/^events: the read model has not applied the published events within 2 s: /);

    ingest = await world.start();
    const waitedId = randomUUID();
    const waited = await publish([line(waitedId, 'ryw-waited', 12)], ['--wait']);
    expect(waited.code).toBe(0);
    expect(waited.stdout).toMatch(/applied by the read model\n$/);
    // Applied means visible to a plain query, without a token.
    const now = await query(impatient, `/api/artifacts/${waitedId}`);
    expect(now.status).toBe(200);
    // ... and, since the partitions are consumed in order, so are the events published while it was stopped.
    expect((await query(impatient, `/api/artifacts/${id}`, stalled.token)).status).toBe(200);
  });
});
