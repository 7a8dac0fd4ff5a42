import { MigrationInterface, QueryRunner } from 'typeorm';

// The read model. Table and column names follow Prefect's server schema; `key`
// columns use the "C" collation so KEY_ASC / KEY_DESC order by code point, the
// order Prefect shows on SQLite (its default back end).
const up = `
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE artifact (
  id            uuid PRIMARY KEY,
  created       timestamptz NOT NULL,
  updated       timestamptz NOT NULL,
  key           text COLLATE "C",
  type          text,
  description   text,
  data          json,
  metadata_     json,
  flow_run_id   uuid,
  task_run_id   uuid,
  src_partition integer NOT NULL,
  src_offset    bigint NOT NULL
);
CREATE INDEX ix_artifact__key_created_offset ON artifact (key, created DESC, src_offset DESC);
CREATE INDEX ix_artifact__key_asc_id ON artifact (key ASC NULLS FIRST, id ASC);
CREATE INDEX ix_artifact__created_id ON artifact (created DESC, id DESC);
CREATE INDEX ix_artifact__updated_id ON artifact (updated DESC, id DESC);
CREATE INDEX ix_artifact__flow_run_id ON artifact (flow_run_id);
CREATE INDEX ix_artifact__task_run_id ON artifact (task_run_id);
CREATE INDEX ix_artifact__type ON artifact (type);
CREATE INDEX ix_artifact__key_trgm ON artifact USING gin (key gin_trgm_ops);

CREATE TABLE artifact_collection (
  id          uuid PRIMARY KEY,
  created     timestamptz NOT NULL,
  updated     timestamptz NOT NULL,
  key         text COLLATE "C" NOT NULL,
  latest_id   uuid NOT NULL,
  type        text,
  description text,
  data        json,
  metadata_   json,
  flow_run_id uuid,
  task_run_id uuid,
  CONSTRAINT uq_artifact_collection__key UNIQUE (key)
);
CREATE INDEX ix_artifact_collection__key_latest_id ON artifact_collection (key, latest_id);
CREATE INDEX ix_artifact_collection__latest_id ON artifact_collection (latest_id);
CREATE INDEX ix_artifact_collection__created_id ON artifact_collection (created DESC, id DESC);
CREATE INDEX ix_artifact_collection__updated_id ON artifact_collection (updated DESC, id DESC);
CREATE INDEX ix_artifact_collection__flow_run_id ON artifact_collection (flow_run_id);
CREATE INDEX ix_artifact_collection__task_run_id ON artifact_collection (task_run_id);
CREATE INDEX ix_artifact_collection__type ON artifact_collection (type);
CREATE INDEX ix_artifact_collection__key_trgm ON artifact_collection USING gin (key gin_trgm_ops);

CREATE TABLE flow (
  id      uuid PRIMARY KEY,
  created timestamptz,
  updated timestamptz NOT NULL,
  name    text NOT NULL,
  tags    text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX ix_flow__name ON flow (name);
CREATE INDEX ix_flow__tags ON flow USING gin (tags);

CREATE TABLE deployment (
  id                uuid PRIMARY KEY,
  created           timestamptz,
  updated           timestamptz NOT NULL,
  flow_id           uuid,
  name              text NOT NULL,
  tags              text[] NOT NULL DEFAULT '{}',
  work_queue_name   text,
  paused            boolean NOT NULL DEFAULT false,
  concurrency_limit integer
);
CREATE INDEX ix_deployment__flow_id ON deployment (flow_id);
CREATE INDEX ix_deployment__name ON deployment (name);
CREATE INDEX ix_deployment__tags ON deployment USING gin (tags);

CREATE TABLE flow_run (
  id                        uuid PRIMARY KEY,
  created                   timestamptz,
  updated                   timestamptz NOT NULL,
  flow_id                   uuid,
  deployment_id             uuid,
  name                      text NOT NULL,
  tags                      text[] NOT NULL DEFAULT '{}',
  state_type                text,
  state_name                text,
  flow_version              text,
  work_queue_name           text,
  parent_task_run_id        uuid,
  idempotency_key           text,
  start_time                timestamptz,
  end_time                  timestamptz,
  expected_start_time       timestamptz,
  next_scheduled_start_time timestamptz,
  created_by                jsonb
);
CREATE INDEX ix_flow_run__flow_id ON flow_run (flow_id);
CREATE INDEX ix_flow_run__deployment_id ON flow_run (deployment_id);
CREATE INDEX ix_flow_run__state_type ON flow_run (state_type);
CREATE INDEX ix_flow_run__parent_task_run_id ON flow_run (parent_task_run_id);
CREATE INDEX ix_flow_run__tags ON flow_run USING gin (tags);

CREATE TABLE task_run (
  id                  uuid PRIMARY KEY,
  created             timestamptz,
  updated             timestamptz NOT NULL,
  flow_run_id         uuid,
  name                text NOT NULL,
  tags                text[] NOT NULL DEFAULT '{}',
  task_key            text,
  dynamic_key         text,
  state_type          text,
  state_name          text,
  start_time          timestamptz,
  end_time            timestamptz,
  expected_start_time timestamptz
);
CREATE INDEX ix_task_run__flow_run_id ON task_run (flow_run_id);
CREATE INDEX ix_task_run__state_type ON task_run (state_type);
CREATE INDEX ix_task_run__tags ON task_run USING gin (tags);

-- A deleted entity leaves its id and deletion time here, so that a snapshot
-- older than the delete, or a redelivered artifact creation, cannot revive it.
CREATE TABLE tombstone (
  entity  text NOT NULL,
  id      uuid NOT NULL,
  updated timestamptz NOT NULL,
  PRIMARY KEY (entity, id)
);

-- The next offset to consume for each (group, topic, partition); written in the
-- same transaction as the projection writes it accounts for.
CREATE TABLE consumer_checkpoint (
  group_id    text NOT NULL,
  topic       text NOT NULL,
  partition   integer NOT NULL,
  next_offset bigint NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (group_id, topic, partition)
);
`;

export class InitialSchema1700000000001 implements MigrationInterface {
  name = 'InitialSchema1700000000001';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(up);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(
      'DROP TABLE consumer_checkpoint, tombstone, task_run, flow_run, deployment, flow, artifact_collection, artifact',
    );
  }
}
