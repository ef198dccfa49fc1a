// A small typed client of the simulator's control API (tools/spotify-sim/README.md), for the end-to-end tests.

export interface LedgerPlay {
  playedAt: string;
  playedAtMs: number;
  trackUri: string;
  trackId: string | null;
  trackName: string;
  artistNames: string[];
  albumName: string | null;
  durationMs: number;
  playedMs: number;
  contextUri: string | null;
  isLocal: boolean;
  isrc: string | null;
  quirks: unknown;
}

export interface Ledger {
  userId: string;
  nowMs: number;
  plays: LedgerPlay[];
}

export interface SimClock {
  nowMs: number;
  now: string;
  realNowMs: number;
  lagMs: number;
  running: boolean;
}

export type FaultKind =
  | 'rate-limit'
  | 'quota-exceeded'
  | 'server-error'
  | 'slow'
  | 'not-json'
  | 'forbidden'
  | 'unauthorized'
  | 'invalid-grant';

export interface Fault {
  kind: FaultKind;
  endpoint?: 'token' | 'me' | 'recently-played' | 'web-api' | 'all';
  userId?: string;
  count?: number;
  durationMs?: number;
  retryAfterSec?: number;
  status?: number;
  delayMs?: number;
}

export type CallCounts = Record<'authorize' | 'token' | 'me' | 'recently-played', number>;

export class SimControl {
  readonly url: string;
  private readonly token: string | undefined;

  constructor(url: string, token?: string) {
    this.url = url;
    this.token = token;
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.token) headers['x-sim-control-token'] = this.token;
    const response = await fetch(new URL(path, this.url), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`simulator ${method} ${path} answered ${response.status}: ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  clock(): Promise<SimClock> {
    return this.request('GET', '/control/clock');
  }
  advance(ms: number): Promise<SimClock> {
    return this.request('POST', '/control/clock', { advanceMs: ms });
  }
  setClock(ms: number): Promise<SimClock> {
    return this.request('POST', '/control/clock', { setMs: ms });
  }
  addUser(user: { id?: string; displayName?: string; playsPerHour?: number }): Promise<{ id: string }> {
    return this.request('POST', '/control/users', user);
  }
  users(): Promise<{ id: string; playsPerHour: number; authorized: boolean }[]> {
    return this.request('GET', '/control/users');
  }
  patchUser(id: string, patch: { playsPerHour?: number; rotateRefreshTokens?: 'off' | 'revoke-old' | 'keep-old' }) {
    return this.request('PATCH', `/control/users/${encodeURIComponent(id)}`, patch);
  }
  listen(id: string, count: number): Promise<{ plays: unknown[] }> {
    return this.request('POST', `/control/users/${encodeURIComponent(id)}/listen`, { count });
  }
  ledger(id: string): Promise<Ledger> {
    return this.request('GET', `/control/users/${encodeURIComponent(id)}/ledger`);
  }
  replayPages(id: string, pages: unknown[]): Promise<unknown> {
    return this.request('POST', `/control/users/${encodeURIComponent(id)}/replay`, { pages });
  }
  replayFiles(id: string, files: string[]): Promise<unknown> {
    return this.request('POST', `/control/users/${encodeURIComponent(id)}/replay`, { files });
  }
  nextLogin(userId: string): Promise<unknown> {
    return this.request('POST', '/control/authorize/next', { userId });
  }
  addFault(fault: Fault): Promise<{ id: string }> {
    return this.request('POST', '/control/faults', fault);
  }
  clearFaults(): Promise<unknown> {
    return this.request('DELETE', '/control/faults');
  }
  calls(): Promise<{ total: CallCounts; byUser: Record<string, CallCounts> }> {
    return this.request('GET', '/control/calls');
  }
}
