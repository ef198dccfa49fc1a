// One pino logger per process: JSON lines, pretty only on a terminal, and every line passes the redactor.
import { pino, type DestinationStream, type Logger } from 'pino';
import { redactLine } from './redact.ts';

export type { Logger } from 'pino';

export interface LoggerOptions {
  name: string;
  level?: string;
  /** Where lines go; defaults to stdout (pretty when stdout is a terminal). Tests pass a capturing stream. */
  destination?: DestinationStream;
}

export function createLogger({ name, level = 'info', destination }: LoggerOptions): Logger {
  const pretty = !destination && process.stdout.isTTY === true;
  const options = {
    name,
    level,
    base: { service: name, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    hooks: { streamWrite: redactLine },
  };
  if (pretty) return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true } } });
  return destination ? pino(options, destination) : pino(options);
}
