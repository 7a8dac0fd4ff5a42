import { randomBytes } from 'node:crypto';
import { encodeEvent, loadScenarios, runScenarioRequest, scenarioEvents, scenarioFiles } from '../support/conformance';
import { AppProcess, freePort, spawnApp, waitForStatus } from '../../infra/local/apps';
import { createTestDatabase, TestDatabase } from '../support/database';
import { connectKafka, requireBrokers, TestKafka } from '../support/kafka';

// Every public scenario of test/conformance/scenarios, through the real broker and the real HTTP API.
describe('conformance scenarios (Kafka -> ingest -> PostgreSQL -> query)', () => {
  const suffix = randomBytes(4).toString('hex');
  const artifactTopic = `conformance-${suffix}.artifacts`;
  const runTopic = `conformance-${suffix}.runs`;
  let db: TestDatabase;
  let kafka: TestKafka;
  let ingest: AppProcess;
  let query: AppProcess;

  beforeAll(async () => {
    db = await createTestDatabase('conformance');
    kafka = await connectKafka();
    ingest = spawnApp(
      'ingest',
      {
        DATABASE_URL: db.url,
        KAFKA_BROKERS: requireBrokers().join(','),
        ARTIFACT_TOPIC: artifactTopic,
        RUN_TOPIC: runTopic,
        KAFKA_GROUP_ID: `conformance-${suffix}`,
        KAFKA_TOPIC_PARTITIONS: '3',
        INGEST_PORT: String(await freePort()),
      },
    );
    query = spawnApp('query', { DATABASE_URL: db.url, QUERY_PORT: String(await freePort()) });
    await Promise.all([waitForStatus(ingest, '/ready'), waitForStatus(query, '/api/health')]);
  });

  afterAll(async () => {
    await Promise.allSettled([ingest?.stop(), query?.stop()]);
    await kafka?.close();
    await db?.drop();
  });

  for (const file of scenarioFiles()) {
    describe(file, () => {
      for (const scenario of loadScenarios(file)) {
        test(scenario.name, async () => {
          // Every scenario starts from an empty read model; the ingest app is idle (caught up) here.
          await db.dataSource.query('TRUNCATE artifact, artifact_collection, flow, deployment, flow_run, task_run, tombstone');
          const refs = new Map<string, string>();
          const events = scenarioEvents(scenario.given, refs);
          for (const [i, event] of events.entries()) {
            await kafka.send(event.topic === 'artifacts' ? artifactTopic : runTopic, [encodeEvent(event, i % 2 === 0 ? 'structured' : 'binary')]);
          }
          await waitForStatus(ingest, '/ready', 200, 30_000);
          const problems: string[] = [];
          for (const [i, request] of scenario.requests.entries()) problems.push(...(await runScenarioRequest(query.url, request, i, refs)));
          expect(problems).toEqual([]);
        });
      }
    });
  }
});
