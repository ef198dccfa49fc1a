// How every service's main.ts starts and announces itself, so that all five fail and report the same way.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { ConfigError } from './config.ts';
import { redactString } from './redact.ts';

/** sysexits' EX_CONFIG: the process was started with a bad configuration (no restart will fix it). */
export const EXIT_CONFIG = 78;

/**
 * Runs a service's start-up. A bad configuration prints its one message naming every bad variable and exits 78;
 * any other start-up failure prints one redacted line naming the service and exits 1. The logger may not exist
 * yet when either happens, so both go to stderr as plain text.
 */
export function runService(name: string, start: () => Promise<void>): void {
  start().catch((error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`${name}: ${error.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    process.stderr.write(`${name}: start-up failed: ${redactString(what)}\n`);
    process.exit(1);
  });
}

/** The port the app listens on (PORT=0 asks for any free one). */
export function listeningPort(app: FastifyInstance): number {
  const address = app.server.address();
  if (typeof address === 'object' && address !== null) return address.port;
  throw new Error('the app is not listening on a TCP port');
}

/** Logs `ready` with the port: the line start-up scripts and tests wait for. */
export function announceReady(logger: Logger, app: FastifyInstance, details: Record<string, unknown> = {}): number {
  const port = listeningPort(app);
  logger.info({ port, ...details }, 'ready');
  return port;
}
