export * from './data-source';
export * from './checkpoints';
