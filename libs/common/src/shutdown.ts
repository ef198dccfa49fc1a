// Graceful shutdown: on SIGTERM or SIGINT stop taking work, let active work finish, close connections,
// and exit within a bound even if something hangs.
import type { Logger } from 'pino';

export type Closer = { name: string; close: () => Promise<unknown> };

/**
 * Installs the signal handlers. `closers` run in order (workers first, then queues, then connections).
 * Returns a function that runs the same shutdown on demand (for tests and fatal errors).
 */
export function installShutdown(logger: Logger, closers: Closer[], timeoutMs: number): (reason: string) => Promise<void> {
  let running: Promise<void> | undefined;
  const shutdown = (reason: string): Promise<void> => {
    running ??= (async () => {
      logger.info({ reason, timeoutMs }, 'shutting down');
      const timer = setTimeout(() => {
        logger.error({ timeoutMs }, 'shutdown took too long; exiting');
        process.exit(1);
      }, timeoutMs);
      timer.unref();
      let failed = false;
      for (const closer of closers) {
        try {
          await closer.close();
        } catch (error) {
          failed = true;
          logger.error({ err: error, closer: closer.name }, 'closing failed');
        }
      }
      clearTimeout(timer);
      logger.info('stopped');
      process.exitCode = failed ? 1 : 0;
    })();
    return running;
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => void shutdown(signal));
  }
  return shutdown;
}
