export * from './rules.ts';
export { parsePlayedAt } from './played-at.ts';
export { checkItem, type ItemResult } from './check-item.ts';
export { validatePage, canonicalJson, type ValidatedPage } from './validate-page.ts';
export { createValidatorWorker, loadJobIdFor, safeId, type ValidatorDeps, type ValidatorWorker } from './worker.ts';
export { ValidatorConfig } from './config.ts';
export { WORKER_LOCK_SETTINGS } from '@playledger/common';
