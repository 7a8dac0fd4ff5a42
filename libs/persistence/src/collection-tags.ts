/**
 * The entries of artifact_collection_tag (migration 1700000000150): one per tag of a
 * collection row's copy of its run's tags ('run') and of its flow's tags ('flow'),
 * kept by triggers. A file of its own, without TypeORM, so the filters can tell which
 * tags have entries: a B-tree entry holds at most ~2.7 kB, so a longer tag has none.
 */
export const MAX_INDEXED_TAG_BYTES = 1024;

export type CollectionTagSource = 'flow' | 'run';
