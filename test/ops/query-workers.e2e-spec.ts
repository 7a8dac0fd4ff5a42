import { request } from 'node:http';
import { AppProcess, freePort, spawnApp, waitFor, waitForStatus } from '../../infra/local/apps';
import { createTestDatabase, TestDatabase } from '../support/database';

// QUERY_WORKERS=2: a cluster primary forks two query processes on one port; both
// answer, one that dies is replaced while the other keeps answering, SIGTERM
// stops them all. Worker pids come from the JSON log lines (pino's `pid`).

jest.setTimeout(180_000);

interface LogLine {
  pid: number;
  msg: string;
  reqId?: string;
}

/** One request on a connection of its own, so the primary hands each to a worker afresh. */
function get(url: string, requestId: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers: { connection: 'close', 'x-request-id': requestId } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('ops: QUERY_WORKERS', () => {
  let db: TestDatabase;
  let app: AppProcess;
  let stdout = '';

  const lines = (): LogLine[] =>
    stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as LogLine);
  const workerPids = () => [...new Set(lines().filter((l) => l.msg === 'query started').map((l) => l.pid))];
  // Request lines carry the x-request-id given; /api/health is logged at debug.
  const answeringPids = (round: string) => new Set(lines().filter((l) => l.msg === 'request' && l.reqId?.startsWith(`${round}-`)).map((l) => l.pid));

  beforeAll(async () => {
    db = await createTestDatabase('query_workers');
    app = spawnApp('query', { QUERY_PORT: String(await freePort()), DATABASE_URL: db.url, QUERY_WORKERS: '2', LOG_LEVEL: 'debug' });
    app.child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    await waitForStatus(app, '/api/health', 200, 120_000);
    await waitFor('two workers', async () => (workerPids().length === 2 ? true : undefined), 120_000);
  });

  afterAll(async () => {
    if (app) await app.stop();
    await db?.drop();
  });

  it('runs two worker processes besides the primary, and both answer on the one port', async () => {
    const pids = workerPids();
    expect(pids).not.toContain(app.child.pid);
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push(await get(`${app.url}/api/health`, `round1-${i}`));
    expect(statuses.every((s) => s === 200)).toBe(true);
    await waitFor('request logs of both workers', async () => (answeringPids('round1').size === 2 ? true : undefined), 10_000);
    expect([...answeringPids('round1')].sort()).toEqual([...pids].sort());
  });

  it('replaces a worker that dies, and the other keeps answering meanwhile', async () => {
    const [victim, survivor] = workerPids() as [number, number];
    process.kill(victim, 'SIGKILL');
    // Once the primary has seen the exit, and before the replacement listens, the survivor answers alone.
    await waitFor('the primary noticing the exit', async () => (lines().some((l) => l.msg === 'query worker exited; starting another') ? true : undefined), 30_000);
    expect(alive(victim)).toBe(false);
    expect(await get(`${app.url}/api/health`, 'round2-0')).toBe(200);
    await waitFor('a replacement worker', async () => (workerPids().length === 3 ? true : undefined), 120_000);
    const replacement = workerPids().find((pid) => pid !== victim && pid !== survivor)!;
    expect(alive(replacement)).toBe(true);
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push(await get(`${app.url}/api/health`, `round3-${i}`));
    expect(statuses.every((s) => s === 200)).toBe(true);
    await waitFor('request logs of both live workers', async () => (answeringPids('round3').size === 2 ? true : undefined), 10_000);
    expect([...answeringPids('round3')].sort()).toEqual([survivor, replacement].sort());
  });

  it('stops every worker on SIGTERM and exits 0', async () => {
    const workers = workerPids().filter(alive);
    expect(workers).toHaveLength(2);
    expect(await app.stop()).toBe(0);
    await waitFor('the workers gone', async () => (workers.some(alive) ? undefined : true), 30_000);
  });
});
