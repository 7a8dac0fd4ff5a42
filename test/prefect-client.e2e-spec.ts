import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppProcess } from '../infra/local/apps';
import { encodeEvent, ProducedEvent } from './support/conformance';
import { IngestFixture } from './support/ingest-fixture';
import { ensurePrefect, runPrefect } from '../infra/local/prefect';

// Prefect's own Python client and CLI, unchanged, against our query app.
describe('Prefect client and CLI against the query app', () => {
  const suffix = randomBytes(4).toString('hex');
  const flowRunId = randomUUID();
  const versions = [
    { id: randomUUID(), key: `sales-report-${suffix}`, type: 'markdown', description: 'first', data: '# Sales v1', created: '2026-11-01T10:00:00.123456Z' },
    { id: randomUUID(), key: `sales-report-${suffix}`, type: 'markdown', description: 'second', data: '# Sales v2', created: '2026-11-01T11:00:00Z' },
    { id: randomUUID(), key: `churn-table-${suffix}`, type: 'table', description: 'churn', data: [{ customer: 'acme', churn: 0.25 }], created: '2026-11-01T12:00:00Z' },
  ];
  let world: IngestFixture;
  let query: AppProcess;
  let prefectBin: string;
  let prefectHome: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    prefectBin = ensurePrefect();
    prefectHome = mkdtempSync(join(tmpdir(), 'prefect-home-'));
    world = await IngestFixture.create('prefect-client', { partitions: 2 });
    let ingest: AppProcess;
    [ingest, query] = await Promise.all([world.start(), world.startQuery()]);
    for (const [i, v] of versions.entries()) {
      const event: ProducedEvent = {
        topic: 'artifacts',
        key: v.key,
        cloudEvent: {
          specversion: '1.0',
          id: randomUUID(),
          source: '/tests/prefect-client',
          type: 'prefect.artifact.created',
          time: v.created,
          subject: v.id,
          data: { ...v, metadata_: { team: 'sales' }, flow_run_id: flowRunId, task_run_id: null, updated: v.created },
        },
      };
      await world.produce('artifacts', [encodeEvent(event, i % 2 ? 'binary' : 'structured')]);
    }
    await world.caughtUp(ingest);
    env = { PREFECT_API_URL: `${query.url}/api`, PREFECT_HOME: prefectHome, PREFECT_LOGGING_LEVEL: 'WARNING' };
  }, 600_000);

  afterAll(async () => {
    await world?.close();
    if (prefectHome) rmSync(prefectHome, { recursive: true, force: true });
  });

  test('get_client().read_latest_artifacts and read_artifacts', () => {
    const script = `
import asyncio, json
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactCollectionFilter, ArtifactCollectionFilterKey, ArtifactFilter, ArtifactFilterKey
from prefect.client.schemas.sorting import ArtifactSort

async def main():
    async with get_client() as client:
        await client.raise_for_api_version_mismatch()
        latest = await client.read_latest_artifacts(
            artifact_filter=ArtifactCollectionFilter(key=ArtifactCollectionFilterKey(like_="${suffix}")))
        versions = await client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["sales-report-${suffix}"])),
            sort=ArtifactSort.CREATED_DESC)
        print(json.dumps({
            "latest": sorted([[a.key, str(a.latest_id), a.description, a.type] for a in latest]),
            "versions": [[str(a.id), a.created.isoformat(), a.data] for a in versions],
        }))

asyncio.run(main())
`;
    const result = runPrefect(prefectBin, ['python', '-c', script], env);
    expect(result.stderr).not.toMatch(/Traceback/);
    expect(result.status).toBe(0);
    const out = JSON.parse(result.stdout.trim().split('\n').pop()!) as { latest: string[][]; versions: unknown[][] };
    expect(out.latest).toEqual([
      [versions[2]!.key, versions[2]!.id, 'churn', 'table'],
      [versions[1]!.key, versions[1]!.id, 'second', 'markdown'],
    ]);
    expect(out.versions).toEqual([
      [versions[1]!.id, '2026-11-01T11:00:00+00:00', '# Sales v2'],
      [versions[0]!.id, '2026-11-01T10:00:00.123456+00:00', '# Sales v1'],
    ]);
  });

  test('prefect artifact ls lists the latest artifacts', () => {
    const result = runPrefect(prefectBin, ['prefect', 'artifact', 'ls'], env);
    expect(result.stderr).not.toMatch(/Traceback/);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`sales-report-${suffix}`);
    expect(result.stdout).toContain(`churn-table-${suffix}`);
    expect(result.stdout).toContain(versions[1]!.id);
    expect(result.stdout).not.toContain(versions[0]!.id);
  });

  test('prefect artifact inspect <key> shows every version', () => {
    const result = runPrefect(prefectBin, ['prefect', 'artifact', 'inspect', `sales-report-${suffix}`], env);
    expect(result.stderr).not.toMatch(/Traceback/);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(versions[0]!.id);
    expect(result.stdout).toContain(versions[1]!.id);
    expect(result.stdout).toContain('# Sales v2');
    expect(result.stdout).toContain('second');
  });
});
