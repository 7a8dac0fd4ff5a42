import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AssignerProtocol, Kafka, logLevel } from 'kafkajs';
import { downCluster, readClusterState } from '../../infra/local';
import { waitFor } from '../../infra/local/apps';
import { assertPortFree, freePort, isAlive, portAnswers } from '../../infra/local/proc';

// `npm run stack -- --cluster --demo` (issue #14): on the local cluster of 3 brokers, a primary
// and 2 standbys, it runs 2 ingest instances of one group and 2 query apps reading from the
// standbys, publishes the demo data, and stops everything it started on Ctrl-C.

jest.setTimeout(300_000);

const ROOT = resolve(__dirname, '..', '..');

/** A free port whose neighbour `offset` up is free too (stack puts the second app there). */
async function portPair(offset: number): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (await assertPortFree(port + offset, 'second app').then(() => true, () => false)) return port;
  }
}

async function post(url: string, body: string): Promise<{ status: number; text: string }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: response.status, text: await response.text() };
}

describe('npm run stack -- --cluster --demo', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stack-cluster-'));
  let stack: ChildProcess | undefined;
  let output = '';

  afterAll(async () => {
    // the whole process group: npm, its shell, the stack and the apps it started
    if (stack?.pid) {
      try {
        process.kill(-stack.pid, 'SIGKILL');
      } catch {
        // the group is gone already
      }
    }
    await downCluster(join(dir, 'cluster')).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the demo data from 2 query apps over 2 ingest instances, and stops it all on Ctrl-C', async () => {
    const ingestPort = await portPair(1);
    const queryPort = await portPair(10);
    const env: NodeJS.ProcessEnv = { ...process.env, INFRA_DATA_DIR: dir, INFRA_KAFKA_PORT: '0', INFRA_POSTGRES_PORT: '0', INGEST_PORT: String(ingestPort), QUERY_PORT: String(queryPort) };
    delete env.KAFKA_BROKERS;
    delete env.DATABASE_URL;
    delete env.DATABASE_READ_URLS;
    // a process group of its own, so that Ctrl-C can be sent as a terminal sends it: to the whole group
    stack = spawn('npm', ['run', '-s', 'stack', '--', '--cluster', '--demo'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    stack.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    stack.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor('the stack to be up with the demo data', async () => {
      if (stack!.exitCode !== null) throw new Error(`stack exited ${stack!.exitCode}: ${output}`);
      return output.includes('Ctrl-C stops everything') ? true : undefined;
    }, 200_000, 200).catch((error: Error) => {
      throw new Error(`${error.message}; the stack's output:\n${output.slice(-6000)}`);
    });
    expect(output).toMatch(/published \d+ demo events; the read model has caught up/);

    const queries = [queryPort, queryPort + 10].map((port) => `http://127.0.0.1:${port}`);
    // each query app reads from the primary and both standbys; the standbys may trail a little
    const counts = await waitFor('both query apps to answer the same count', async () => {
      const answers = await Promise.all(queries.map((q) => post(`${q}/api/artifacts/count`, '{}')));
      return answers.every((a) => a.status === 200 && a.text === answers[0]!.text && Number(a.text) > 0) ? answers.map((a) => a.text) : undefined;
    });
    expect(counts[0]).toBe(counts[1]);
    for (const q of queries) {
      const ready = (await (await fetch(`${q}/api/ready`)).json()) as { read_pools?: { role: string; state: string }[] };
      expect(ready.read_pools?.map((p) => `${p.role} ${p.state}`).sort()).toEqual(['primary up', 'standby up', 'standby up']);
    }
    const state = readClusterState(join(dir, 'cluster'))!;
    // the two ingest instances are the two members of one consumer group, each with partitions
    const admin = new Kafka({ clientId: 'stack-cluster-spec', brokers: state.brokers.map((b) => `127.0.0.1:${b.port}`), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const [group] = (await admin.describeGroups(['artifact-read-model'])).groups;
      const partitions = group!.members.map((m) => AssignerProtocol.MemberAssignment.decode(m.memberAssignment)!.assignment);
      expect(partitions.map((a) => Object.values(a).flat().length > 0)).toEqual([true, true]);
    } finally {
      await admin.disconnect();
    }
    expect(state.brokers).toHaveLength(3);
    expect(state.postgres).toHaveLength(3);
    const exited = new Promise<string>((done) => stack!.once('exit', (code, signal) => done(String(code ?? signal))));
    process.kill(-stack.pid!, 'SIGINT');
    // npm ends on the signal itself; the stack goes on stopping what it started
    expect(['0', 'SIGINT']).toContain(await exited);
    await waitFor('the stack to stop the cluster it started', async () => (state.brokers.every((b) => !isAlive(b.pid)) && readClusterState(join(dir, 'cluster')) === undefined ? true : undefined), 120_000, 200);
    const appPorts = [ingestPort, ingestPort + 1, queryPort, queryPort + 10];
    expect(await Promise.all(appPorts.map((port) => portAnswers(port)))).toEqual([false, false, false, false]);
  });
});
