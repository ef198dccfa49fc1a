// Programmatic entry: startSimulator(options) → { url, port, close(), state }.
import type { App } from './apps.ts';
import { DEFAULT_APP } from './apps.ts';
import { buildServer } from './server.ts';
import { SimState, DEFAULT_STATE_OPTIONS, type UserSpec } from './state.ts';

export type { App } from './apps.ts';
export type { UserSpec } from './state.ts';
export type { FaultSpec, FaultKind, EndpointSelector } from './faults.ts';
export type { LedgerEntry } from './ledger.ts';
export type { RecentlyPlayedPage, PlayHistoryItem, Track } from './spotify-types.ts';
export { DEFAULT_APP } from './apps.ts';
export { SimState } from './state.ts';

export interface SimulatorOptions {
  port?: number;
  host?: string;
  seed?: number | string;
  users?: number | UserSpec[];
  apps?: App[];
  controlToken?: string;
  clockStartMs?: number;
  clockRunning?: boolean;
  historyMs?: number;
  playsPerHour?: number;
  logger?: boolean;
}

export interface Simulator {
  url: string;
  port: number;
  controlToken: string | undefined;
  state: SimState;
  close(): Promise<void>;
}

export const DEFAULT_START_DAYS_AGO = 30;

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const state = new SimState({
    ...DEFAULT_STATE_OPTIONS,
    seed: String(options.seed ?? DEFAULT_STATE_OPTIONS.seed),
    users: options.users ?? DEFAULT_STATE_OPTIONS.users,
    apps: options.apps ?? [DEFAULT_APP],
    clockStartMs: options.clockStartMs ?? Date.now() - DEFAULT_START_DAYS_AGO * 24 * 60 * 60_000,
    clockRunning: options.clockRunning ?? false,
    historyMs: options.historyMs ?? DEFAULT_STATE_OPTIONS.historyMs,
    playsPerHour: options.playsPerHour ?? DEFAULT_STATE_OPTIONS.playsPerHour,
  });
  const serverOptions: { controlToken?: string; logger?: boolean } = { logger: options.logger ?? false };
  if (options.controlToken !== undefined) serverOptions.controlToken = options.controlToken;
  const app = buildServer(state, serverOptions);
  const host = options.host ?? '127.0.0.1';
  await app.listen({ port: options.port ?? 0, host });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : (options.port ?? 0);
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    controlToken: options.controlToken,
    state,
    close: () => app.close(),
  };
}
