import { randomUUID } from 'node:crypto';
import type { WirePayloads } from '@app/contracts';
import { collectionFlowSync, runCopiesSync } from '@app/projections';

// Rows written straight into the read model (what the ingest app would
// write), for the query app's integration tests. JSON columns take the JSON
// text as it must be returned.

// Row types from the wire payloads (encode.ts), every field optional, without what
// the inserts below set themselves (created, updated) or do not store as sent: the
// `state` object (its columns are state_type and state_name), `created_by` (JSON
// text here), and a task run's task_key and dynamic_key (not written).
export type RunRow = Partial<Omit<WirePayloads['prefect.flow-run.upserted'], 'state' | 'created' | 'updated' | 'created_by'>> & { created_by?: string | null };

export type TaskRunRow = Partial<Omit<WirePayloads['prefect.task-run.upserted'], 'state' | 'created' | 'updated' | 'task_key' | 'dynamic_key'>>;

export interface ArtifactRow {
  id?: string;
  created: string;
  updated?: string;
  key?: string | null;
  type?: string | null;
  description?: string | null;
  data?: string | null;
  metadata_?: string | null;
  flow_run_id?: string | null;
  task_run_id?: string | null;
}

/** What the fixtures need of a connection (a TypeORM DataSource fits). */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<unknown>;
}

export class ReadModelFixtures {
  private offset = 0;

  constructor(private readonly db: Queryable) {}

  async flow(row: { id?: string; name: string; tags?: string[] }): Promise<string> {
    const id = row.id ?? randomUUID();
    await this.db.query('INSERT INTO flow (id, updated, name, tags) VALUES ($1, now(), $2, $3)', [id, row.name, row.tags ?? []]);
    const sync = collectionFlowSync([id]);
    await this.db.query(sync.text, sync.values);
    return id;
  }

  async deployment(row: { id?: string; flow_id: string | null; name: string; tags?: string[]; work_queue_name?: string | null; paused?: boolean; concurrency_limit?: number | null }): Promise<string> {
    const id = row.id ?? randomUUID();
    await this.db.query(
      'INSERT INTO deployment (id, updated, flow_id, name, tags, work_queue_name, paused, concurrency_limit) VALUES ($1, now(), $2, $3, $4, $5, $6, $7)',
      [id, row.flow_id, row.name, row.tags ?? [], row.work_queue_name ?? null, row.paused ?? false, row.concurrency_limit ?? null],
    );
    return id;
  }

  async flowRun(row: RunRow): Promise<string> {
    const id = row.id ?? randomUUID();
    await this.db.query(
      `INSERT INTO flow_run (id, updated, flow_id, deployment_id, name, tags, state_type, state_name, flow_version, work_queue_name,
         parent_task_run_id, idempotency_key, start_time, end_time, expected_start_time, next_scheduled_start_time, created_by)
       VALUES ($1, now(), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16::jsonb)`,
      [
        id, row.flow_id ?? null, row.deployment_id ?? null, row.name ?? 'run', row.tags ?? [], row.state_type ?? null, row.state_name ?? null,
        row.flow_version ?? null, row.work_queue_name ?? null, row.parent_task_run_id ?? null, row.idempotency_key ?? null,
        row.start_time ?? null, row.end_time ?? null, row.expected_start_time ?? null, row.next_scheduled_start_time ?? null, row.created_by ?? null,
      ],
    );
    await this.syncRunColumns([id]);
    return id;
  }

  async taskRun(row: TaskRunRow): Promise<string> {
    const id = row.id ?? randomUUID();
    await this.db.query(
      `INSERT INTO task_run (id, updated, flow_run_id, name, tags, state_type, state_name, start_time, end_time, expected_start_time)
       VALUES ($1, now(), $2, $3, $4, $5, $6, $7, $8, $9)`,
      [id, row.flow_run_id ?? null, row.name ?? 'task', row.tags ?? [], row.state_type ?? null, row.state_name ?? null, row.start_time ?? null, row.end_time ?? null, row.expected_start_time ?? null],
    );
    return id;
  }

  /** A new version; a keyed one becomes its key's latest (§10.1: every collection field overwritten, nulls included). */
  async artifact(row: ArtifactRow): Promise<string> {
    const id = row.id ?? randomUUID();
    const updated = row.updated ?? row.created;
    const values = [row.key ?? null, row.type ?? null, row.description ?? null, row.data ?? null, row.metadata_ ?? null, row.flow_run_id ?? null, row.task_run_id ?? null];
    await this.db.query(
      `INSERT INTO artifact (id, created, updated, key, type, description, data, metadata_, flow_run_id, task_run_id, src_partition, src_offset)
       VALUES ($1, $2, $3, $4, $5, $6, $7::json, $8::json, $9, $10, 0, $11)`,
      [id, row.created, updated, ...values, this.offset++],
    );
    if (row.key != null) {
      await this.db.query(
        `INSERT INTO artifact_collection (id, created, updated, key, latest_id, type, description, data, metadata_, flow_run_id, task_run_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::json, $9::json, $10, $11)
         ON CONFLICT (key) DO UPDATE SET updated = excluded.updated, latest_id = excluded.latest_id, type = excluded.type,
           description = excluded.description, data = excluded.data, metadata_ = excluded.metadata_,
           flow_run_id = excluded.flow_run_id, task_run_id = excluded.task_run_id`,
        [randomUUID(), row.created, updated, row.key, id, ...values.slice(1)],
      );
      await this.syncCollectionRun(row.key, row.flow_run_id ?? null);
    } else if (row.flow_run_id != null) {
      await this.syncRunColumns([row.flow_run_id]);
    }
    return id;
  }

  /** §10.2: the present fields change, on the collection too when the version is its key's latest. */
  async updateArtifact(id: string, at: string, fields: { data?: string | null; description?: string | null; metadata_?: string | null }): Promise<void> {
    const sets = ['updated = $2'];
    const values: unknown[] = [id, at];
    for (const [name, value] of Object.entries(fields)) {
      values.push(value);
      sets.push(name === 'description' ? `${name} = $${values.length}` : `${name} = $${values.length}::json`);
    }
    await this.db.query(`UPDATE artifact SET ${sets.join(', ')} WHERE id = $1`, values);
    await this.db.query(`UPDATE artifact_collection SET ${sets.join(', ')} WHERE latest_id = $1`, values);
  }

  /** §10.3: the key's newest remaining version is promoted with its own times, or the collection row goes. */
  async deleteArtifact(id: string): Promise<void> {
    await this.db.query('DELETE FROM artifact WHERE id = $1', [id]);
    const [collection] = (await this.db.query('SELECT key FROM artifact_collection WHERE latest_id = $1', [id])) as { key: string }[];
    if (!collection) return;
    const [next] = (await this.db.query('SELECT id FROM artifact WHERE key = $1 ORDER BY created DESC, src_offset DESC LIMIT 1', [collection.key])) as { id: string }[];
    if (!next) {
      await this.db.query('DELETE FROM artifact_collection WHERE key = $1', [collection.key]);
      return;
    }
    await this.db.query(
      `UPDATE artifact_collection c SET latest_id = a.id, created = a.created, updated = a.updated, type = a.type, description = a.description,
         data = a.data, metadata_ = a.metadata_, flow_run_id = a.flow_run_id, task_run_id = a.task_run_id
       FROM artifact a WHERE a.id = $1 AND c.key = a.key`,
      [next.id],
    );
    const [latest] = (await this.db.query('SELECT flow_run_id FROM artifact_collection WHERE key = $1', [collection.key])) as { flow_run_id: string | null }[];
    await this.syncCollectionRun(collection.key, latest!.flow_run_id);
  }

  /** The versions' and collection rows' copies of their flow run's columns (migrations 080, 120 and 130), by the ingest app's own statement. */
  private async syncRunColumns(flowRunIds: string[]): Promise<void> {
    const statement = runCopiesSync(flowRunIds);
    await this.db.query(statement.text, statement.values);
  }

  private async syncCollectionRun(key: string, flowRunId: string | null): Promise<void> {
    if (flowRunId !== null) return this.syncRunColumns([flowRunId]);
    await this.db.query('UPDATE artifact_collection SET run_flow_id = NULL, run_deployment_id = NULL, run_state_type = NULL, run_tags = NULL, run_flow_tags = NULL WHERE key = $1', [key]);
  }

  async clear(): Promise<void> {
    await this.db.query('TRUNCATE artifact, artifact_collection, flow, deployment, flow_run, task_run');
  }
}
