export { createLoaderWorkers, type LoaderDeps, type LoaderWorkers } from './workers.ts';
export { LOAD_FAILED_RULE, type LoadOutcome } from './load-worker.ts';
export type { DeadLetterOutcome } from './dead-letter-worker.ts';
export * from './db-errors.ts';
export { LoaderConfig } from './config.ts';
