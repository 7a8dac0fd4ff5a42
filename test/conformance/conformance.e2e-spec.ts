import { encodeEvent, loadScenarios, runScenarioRequest, scenarioEvents, scenarioFiles } from '../support/conformance';
import { AppProcess, waitForStatus } from '../../infra/local/apps';
import { IngestFixture } from '../support/ingest-fixture';

// Every public scenario of test/conformance/scenarios, through the real broker and the real HTTP API.
describe('conformance scenarios (Kafka -> ingest -> PostgreSQL -> query)', () => {
  let world: IngestFixture;
  let ingest: AppProcess;
  let query: AppProcess;

  beforeAll(async () => {
    world = await IngestFixture.create('conformance');
    [ingest, query] = await Promise.all([world.start(), world.startQuery()]);
  });

  afterAll(async () => {
    await world?.close();
  });

  for (const file of scenarioFiles()) {
    describe(file, () => {
      for (const scenario of loadScenarios(file)) {
        test(scenario.name, async () => {
          // Every scenario starts from an empty read model; the ingest app is idle (caught up) here.
          await world.db.dataSource.query('TRUNCATE artifact, artifact_collection, flow, deployment, flow_run, task_run, tombstone');
          const refs = new Map<string, string>();
          const events = scenarioEvents(scenario.given, refs);
          for (const [i, event] of events.entries()) {
            await world.produce(event.topic, [encodeEvent(event, i % 2 === 0 ? 'structured' : 'binary')]);
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
