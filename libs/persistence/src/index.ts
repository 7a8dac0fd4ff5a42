export * from './data-source';
export * from './sql';
export * from './checkpoints';
export * from './connection-url';
export * from './changes';
export * from './failover';
export * from './tally';
