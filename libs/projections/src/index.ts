export type { Row, SqlExecutor } from './sql';
export type { BatchStats, IgnoreReason } from './stats';
export { IGNORE_REASONS } from './stats';
export { COLLECTION_ID_NAMESPACE, collectionId } from './collection-id';

export { loadQueries, planBatch, projectBatch } from './batch';
export type { BatchPlan, LoadName, LoadQueries, LoadedRows } from './batch';

export { artifactLoadQueries, artifactLoadRequest, artifactStatements, isArtifactEvent, planArtifacts } from './artifacts.projection';
export type { ArtifactEvent, ArtifactLoadedRows, ArtifactLoadQueries, ArtifactLoadRequest, ArtifactPatch, ArtifactPlan, ArtifactWrites } from './artifacts.projection';

export { collectionFlowSync, runCopiesSync, isRunEvent, planRuns, runStatements } from './runs.projection';
export type { RunEvent, RunPlan, RunTableWrites, RunWrites } from './runs.projection';
export { RUN_COLUMNS, RUN_EVENT_TARGET, RUN_TABLES } from './run-tables';
export type { DeploymentRow, FlowRow, FlowRunRow, RunRow, RunRows, RunTable, TaskRunRow } from './run-tables';

export { applyEvent, compareVersions, emptyModel, foldEvents, modelTables } from './model';
export type { ArtifactCollectionRow, ArtifactRow, ReadModel, ReadModelTables, TombstoneRow } from './model';
export { readTables } from './dump';

