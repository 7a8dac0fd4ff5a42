import { artifactJson, artifactOrderBy, artifactWhere, asSqlFilter, planned, SqlParams, storedCollectionJson } from '@app/filters';
import type { SqlStatement } from '@app/persistence';
import { QueryDatabase } from '../query-database';
import type { UiListRequest } from './ui-requests';

// The web page's reads (GET/POST /ui-api/...): one HTTP request per view, each
// answer JSON text built in SQL like the Prefect routes' answers. Artifacts
// keep Prefect's shape under `artifact`; the names of their runs, flow and
// deployment come alongside, looked up per row by primary key (a page holds
// at most the server's page size of rows).

/** How many artifacts a run view or a key's timeline shows at most; the total is given too. */
export const UI_MAX_ROWS = 200;

const named = (alias: string) => `CASE WHEN ${alias}.id IS NULL THEN NULL ELSE json_build_object('id', ${alias}.id, 'name', ${alias}.name) END`;

/** A flow run with its flow and deployment names, as a json value, for the run `fr`. */
const FLOW_RUN_OBJECT = `json_build_object('id', fr.id, 'name', fr.name, 'state_type', fr.state_type, 'state_name', fr.state_name, 'tags', fr.tags,
  'start_time', fr.start_time, 'end_time', fr.end_time, 'flow', ${named('fl')}, 'deployment', ${named('d')})`;
const FLOW_RUN_FROM = 'flow_run fr LEFT JOIN flow fl ON fl.id = fr.flow_id LEFT JOIN deployment d ON d.id = fr.deployment_id';
const TASK_RUN_OBJECT = `json_build_object('id', tr.id, 'name', tr.name, 'state_type', tr.state_type, 'state_name', tr.state_name, 'tags', tr.tags,
  'start_time', tr.start_time, 'end_time', tr.end_time)`;

/** `{"artifact": <Prefect's shape>, "flow_run": ..., "task_run": ..., "is_latest": ...}` for the row `t`. */
function rowJson(t: string, artifact: string, isLatest: string): string {
  return `'{"artifact":' || ${artifact}
    || ',"flow_run":' || coalesce((SELECT ${FLOW_RUN_OBJECT} FROM ${FLOW_RUN_FROM} WHERE fr.id = ${t}.flow_run_id)::text, 'null')
    || ',"task_run":' || coalesce((SELECT ${TASK_RUN_OBJECT} FROM task_run tr WHERE tr.id = ${t}.task_run_id)::text, 'null')
    || ',"is_latest":' || (${isLatest})::text || '}'`;
}

const versionRow = (t: string) => rowJson(t, artifactJson(t), `EXISTS (SELECT 1 FROM artifact_collection c WHERE c.latest_id = ${t}.id)`);

export class UiReadModel {
  constructor(private readonly db: QueryDatabase) {}

  /** The list view: a page of latest artifacts with names, and the count of all that match. */
  async latest(request: UiListRequest): Promise<string> {
    const [rows, [count]] = await Promise.all([this.db.texts(latestPage(request)), this.db.texts(latestCount(request))]);
    return `{"count":${count ?? '0'},"offset":${request.offset},"limit":${request.limit},"rows":[${rows.join(',')}]}`;
  }

  /** The artifact view: one version with names, and its key's versions (newest first) for the timeline. */
  async artifact(id: string): Promise<string | undefined> {
    const [row] = await this.db.texts({
      text: `SELECT '{"version":' || ${versionRow('a')}
          || ',"version_count":' || (SELECT count(*) FROM artifact v WHERE v.key = a.key)
          || ',"versions":' || coalesce((
               SELECT json_agg(json_build_object('id', v.id, 'created', v.created, 'updated', v.updated, 'type', v.type, 'description', v.description,
                                                 'flow_run_id', v.flow_run_id, 'is_latest', v.id = c.latest_id) ORDER BY v.created DESC, v.src_offset DESC)::text
               FROM (SELECT * FROM artifact v WHERE v.key = a.key ORDER BY v.created DESC, v.src_offset DESC LIMIT $2::bigint) v), '[]')
          || '}'
        FROM artifact a LEFT JOIN artifact_collection c ON c.key = a.key
        WHERE a.id = $1::uuid`,
      values: [id, UI_MAX_ROWS],
    });
    return row;
  }

  /**
   * The run view: a flow run (or else a task run) by id with its names, and
   * every artifact version created in it, keyed and keyless, newest first.
   * An id no run row has but some artifact names still answers, with `run`
   * null (the run's event may not have arrived yet); otherwise undefined.
   */
  async run(id: string): Promise<string | undefined> {
    const [flowRun] = await this.db.texts({ text: `SELECT ${FLOW_RUN_OBJECT}::text FROM ${FLOW_RUN_FROM} WHERE fr.id = $1::uuid`, values: [id] });
    let kind = 'flow_run';
    let run = flowRun;
    if (run === undefined) {
      const [taskRun] = await this.db.texts({
        text: `SELECT (jsonb_build_object('flow_run', (SELECT ${FLOW_RUN_OBJECT} FROM ${FLOW_RUN_FROM} WHERE fr.id = tr.flow_run_id)) || ${TASK_RUN_OBJECT}::jsonb)::text
               FROM task_run tr WHERE tr.id = $1::uuid`,
        values: [id],
      });
      if (taskRun !== undefined) {
        kind = 'task_run';
        run = taskRun;
      }
    }
    // Without a run row, the id may still be either kind: artifacts are looked up by both columns.
    const column = run === undefined ? '(a.flow_run_id = $1::uuid OR a.task_run_id = $1::uuid)' : kind === 'flow_run' ? 'a.flow_run_id = $1::uuid' : 'a.task_run_id = $1::uuid';
    const [rows, [count]] = await Promise.all([
      this.db.texts({ text: `SELECT ${versionRow('a')} FROM artifact a WHERE ${column} ORDER BY a.created DESC, a.id DESC LIMIT $2::bigint`, values: [id, UI_MAX_ROWS] }),
      this.db.texts({ text: `SELECT count(*)::text FROM artifact a WHERE ${column}`, values: [id] }),
    ]);
    if (run === undefined && rows.length === 0) return undefined;
    return `{"kind":${run === undefined ? 'null' : `"${kind}"`},"run":${run ?? 'null'},"artifact_count":${count ?? '0'},"artifacts":[${rows.join(',')}]}`;
  }
}

function latestWhere(request: UiListRequest, p: SqlParams): string {
  const where = artifactWhere('artifact_collection', request.filters, p, 't');
  if (request.updatedAfter === undefined) return where;
  return asSqlFilter([where, `t.updated >= ${p.add(request.updatedAfter, 'timestamptz')}`]);
}

export function latestPage(request: UiListRequest): SqlStatement {
  const p = new SqlParams();
  const where = latestWhere(request, p);
  const order = artifactOrderBy('artifact_collection', request.sort, 't');
  // The page's ids first (see listStatement in artifact-read-model.ts), then its rows with their names.
  const page = `SELECT t.id FROM artifact_collection t WHERE ${where} ORDER BY ${order} LIMIT ${p.add(request.limit, 'bigint')} OFFSET ${p.add(request.offset, 'bigint')}`;
  const row = rowJson('t', storedCollectionJson('t'), 'true');
  return planned('artifact_collection', p.statement(`SELECT ${row} FROM artifact_collection t WHERE t.id = ANY(ARRAY(${page})) ORDER BY ${order}`), request.filters);
}

export function latestCount(request: UiListRequest): SqlStatement {
  const p = new SqlParams();
  return planned('artifact_collection', p.statement(`SELECT count(*)::text FROM artifact_collection t WHERE ${latestWhere(request, p)}`), request.filters);
}
