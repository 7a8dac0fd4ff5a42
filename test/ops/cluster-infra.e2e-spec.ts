import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { clusterStatus, ClusterUrls, downCluster, promotePostgres, readClusterState, upCluster } from '../../infra/local';
import { isAlive, portAnswers } from '../../infra/local/proc';
import { waitFor } from '../../infra/local/apps';
import { createTopicsSettled } from '@app/contracts';

// `npm run infra -- up --cluster`, through the functions it calls: 3 KRaft brokers that
// form one cluster, and a primary whose writes its two hot standbys replay.
async function query<T>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}

describe('the local cluster (infra up --cluster)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cluster-infra-'));
  let urls: ClusterUrls;

  beforeAll(async () => {
    ({ urls } = await upCluster({ dir, persistent: false }));
  });

  afterAll(async () => {
    await downCluster(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs 3 brokers in one KRaft cluster and replicates a topic 3 ways', async () => {
    expect(urls.KAFKA_BROKERS.split(',')).toHaveLength(3);
    const admin = new Kafka({ clientId: 'cluster-infra-spec', brokers: urls.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const cluster = await admin.describeCluster();
      expect(cluster.brokers.map((b) => b.nodeId).sort()).toEqual([1, 2, 3]);
      await createTopicsSettled(admin, [{ topic: 'cluster-infra-rf3', numPartitions: 2, replicationFactor: 3 }]);
      const [topic] = (await admin.fetchTopicMetadata({ topics: ['cluster-infra-rf3'] })).topics;
      expect(topic?.partitions.map((p) => p.isr.length)).toEqual([3, 3]);
    } finally {
      await admin.disconnect();
    }
  });

  it('streams the primary’s writes to both hot standbys, which refuse writes', async () => {
    const standbys = urls.DATABASE_READ_URLS.split(',');
    expect(standbys).toHaveLength(2);
    await query(urls.DATABASE_URL, 'CREATE TABLE cluster_probe (id int PRIMARY KEY)');
    await query(urls.DATABASE_URL, 'INSERT INTO cluster_probe VALUES (7)');
    for (const standby of standbys) {
      const rows = await waitFor('the row on the standby', async () => {
        const found = await query<{ id: number }>(standby, "SELECT id FROM cluster_probe WHERE to_regclass('cluster_probe') IS NOT NULL").catch(() => []);
        return found.length ? found : undefined;
      });
      expect(rows).toEqual([{ id: 7 }]);
      await expect(query(standby, 'INSERT INTO cluster_probe VALUES (8)')).rejects.toThrow(/read-only transaction/);
    }
    const status = await clusterStatus(dir);
    expect(status?.postgres.map((p) => [p.name, p.role])).toEqual([
      ['primary', 'primary'],
      ['standby_1', 'standby'],
      ['standby_2', 'standby'],
    ]);
    expect(status?.brokers.every((b) => b.alive)).toBe(true);
  });

  it('after a promotion by hand, up names the promoted node as DATABASE_URL and status as primary', async () => {
    const state = readClusterState(dir)!;
    const promoted = state.postgres.find((n) => n.name === 'standby_1')!;
    await promotePostgres(promoted.dataDir);
    await waitFor('the promoted node to accept writes', async () => ((await query<{ standby: boolean }>(urls.DATABASE_READ_URLS.split(',')[0]!, 'SELECT pg_is_in_recovery() AS standby'))[0]!.standby ? undefined : true));
    const again = await upCluster({ dir, persistent: false });
    expect(new URL(again.urls.DATABASE_URL).port).toBe(String(promoted.port));
    expect(again.urls.DATABASE_READ_URLS.split(',').map((u) => new URL(u).port).sort()).toEqual(state.postgres.filter((n) => n !== promoted).map((n) => String(n.port)).sort());
    const status = await clusterStatus(dir);
    expect(status?.postgres.find((p) => p.name === 'standby_1')?.role).toBe('primary');
  });

  it('down stops every member', async () => {
    const state = readClusterState(dir);
    const pids = state!.brokers.map((b) => b.pid);
    await downCluster(dir);
    expect(pids.filter((pid) => isAlive(pid))).toEqual([]);
    const answering = await Promise.all(state!.postgres.map((p) => portAnswers(p.port)));
    expect(answering).toEqual([false, false, false]);
    expect(await clusterStatus(dir)).toBeUndefined();
  });
});
