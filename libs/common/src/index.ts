export * from './config.ts';
export * from './errors.ts';
export * from './logger.ts';
export * from './redact.ts';
export * from './redis.ts';
export * from './queues.ts';
export * from './schedule.ts';
export * from './shutdown.ts';
