import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import { stringify as losslessStringify } from 'lossless-json';
import pino from 'pino';
import { canonicalJson, parseJson } from '@app/contracts/json';
import { createTestDatabase, TestDatabase } from '../../../test/support/database';
import { loadScenarios, Operation, runScenarioRequest, scenarioFiles } from '../../../test/support/conformance';
import { startQueryApp } from '../src/query.module';
import { ReadModelFixtures } from './read-model-fixtures';

// The conformance scenarios' requests against rows written straight into the
// read model, emulating the ingest side with ReadModelFixtures (§10 rules), so
// that a failure here is the query side's. The e2e runner replays the same
// scenarios through Kafka and the real ingest app.

const scenarios = scenarioFiles();

let db: TestDatabase;
let app: NestFastifyApplication;
let base: string;
let rows: ReadModelFixtures;

beforeAll(async () => {
  db = await createTestDatabase('query_conformance');
  rows = new ReadModelFixtures(db.dataSource);
  ({ app, url: base } = await startQueryApp({ databaseUrl: db.url, port: 0, defaultLimit: 200, logLevel: 'silent' }, pino({ level: 'silent' })));
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
});

const json = (value: unknown) => (value === undefined || value === null ? null : losslessStringify(value) ?? null);
/** `data` as the ingest side stores it: canonical text (docs/events.md), so number spellings come back as Prefect prints them. */
const data = (value: unknown) => {
  const text = json(value);
  if (text === null) return null;
  const canonical = canonicalJson(parseJson(text));
  return canonical === 'null' ? null : canonical;
};
/** The ingest side stores a metadata value longer than 500 characters cut to 500 plus "..." (docs/events.md). */
const metadata = (value: unknown) => {
  if (value === undefined || value === null) return null;
  const cut = Object.entries(value as Record<string, string>).map(([k, v]) => [k, [...v].length > 500 ? `${[...v].slice(0, 500).join('')}...` : v]);
  return JSON.stringify(Object.fromEntries(cut));
};
const text = (value: unknown) => (value === undefined ? null : (value as string | null));

async function apply(given: Operation[], refs: Map<string, string>): Promise<void> {
  const id = (ref: unknown) => {
    if (ref === undefined || ref === null) return null;
    if (!refs.has(String(ref))) refs.set(String(ref), randomUUID());
    return refs.get(String(ref)) as string;
  };
  const known = new Set<string>();
  for (const op of given) {
    const self = id(op.ref) as string;
    switch (op.op) {
      case 'phantom':
        break;
      case 'flow':
        await rows.flow({ id: self, name: op.name as string, tags: op.tags as string[] });
        break;
      case 'deployment':
        await rows.deployment({
          id: self,
          flow_id: id(op.flow),
          name: op.name as string,
          tags: op.tags as string[] | undefined,
          work_queue_name: text(op.work_queue_name),
          paused: (op.paused as boolean | undefined) ?? false,
          concurrency_limit: op.concurrency_limit === undefined || op.concurrency_limit === null ? null : Number(op.concurrency_limit),
        });
        break;
      case 'flow_run':
        await rows.flowRun({
          id: self,
          flow_id: id(op.flow),
          deployment_id: id(op.deployment),
          name: op.name as string,
          tags: op.tags as string[] | undefined,
          state_type: text(op.state_type),
          state_name: text(op.state_name),
          flow_version: text(op.flow_version),
          work_queue_name: text(op.work_queue_name),
          parent_task_run_id: id(op.parent_task_run),
          idempotency_key: text(op.idempotency_key),
          start_time: text(op.start_time),
          end_time: text(op.end_time),
          expected_start_time: text(op.expected_start_time),
          next_scheduled_start_time: text(op.next_scheduled_start_time),
          created_by: json(op.created_by),
        });
        break;
      case 'task_run':
        await rows.taskRun({
          id: self,
          flow_run_id: id(op.flow_run),
          name: op.name as string,
          tags: op.tags as string[] | undefined,
          state_type: text(op.state_type),
          state_name: text(op.state_name),
          start_time: text(op.start_time),
          end_time: text(op.end_time),
          expected_start_time: text(op.expected_start_time),
        });
        break;
      case 'artifact_create':
        known.add(self);
        await rows.artifact({
          id: self,
          created: op.created as string,
          key: text(op.key),
          type: text(op.type),
          description: text(op.description),
          data: data(op.data),
          metadata_: metadata(op.metadata_),
          flow_run_id: id(op.flow_run),
          task_run_id: id(op.task_run),
        });
        break;
      case 'artifact_update': {
        if (!known.has(self)) break;
        const fields: Record<string, string | null> = {};
        if ('data' in op) fields.data = data(op.data);
        if ('description' in op) fields.description = text(op.description);
        if ('metadata_' in op) fields.metadata_ = metadata(op.metadata_);
        await rows.updateArtifact(self, op.at as string, fields);
        break;
      }
      case 'artifact_delete':
        if (known.delete(self)) await rows.deleteArtifact(self);
        break;
      default:
        throw new Error(`unknown operation ${op.op}`);
    }
  }
}

describe('conformance scenarios, rows written directly', () => {
  for (const file of scenarios) {
    describe(file, () => {
      for (const scenario of loadScenarios(file)) {
        it(scenario.name, async () => {
          await rows.clear();
          const refs = new Map<string, string>();
          await apply(scenario.given, refs);
          const problems: string[] = [];
          for (const [i, request] of scenario.requests.entries()) problems.push(...(await runScenarioRequest(base, request, i, refs)));
          expect(problems).toEqual([]);
        });
      }
    });
  }
});
