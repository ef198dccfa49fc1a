// Faults on demand: per endpoint, app-wide or per user, for a count of responses or a duration, then cleared.

export type Endpoint = 'token' | 'me' | 'recently-played';
export type EndpointSelector = Endpoint | 'web-api' | 'all';
export const FAULT_KINDS = [
  'rate-limit',
  'quota-exceeded',
  'server-error',
  'slow',
  'not-json',
  'forbidden',
  'unauthorized',
  'invalid-grant',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultSpec {
  kind: FaultKind;
  endpoint?: EndpointSelector;
  userId?: string;
  count?: number;
  durationMs?: number;
  retryAfterSec?: number;
  status?: number;
  delayMs?: number;
  body?: string;
  contentType?: string;
}

export interface Fault extends FaultSpec {
  id: string;
  endpoint: EndpointSelector;
  remaining: number | null;
  untilMs: number | null;
  delivered: number;
}

function covers(selector: EndpointSelector, endpoint: Endpoint): boolean {
  switch (selector) {
    case 'all':
      return true;
    case 'web-api':
      return endpoint !== 'token';
    case 'token':
    case 'me':
    case 'recently-played':
      return selector === endpoint;
  }
}

export class FaultBoard {
  readonly #faults: Fault[] = [];
  readonly #now: () => number;
  #nextId = 1;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  add(spec: FaultSpec): Fault {
    const fault: Fault = {
      ...spec,
      id: `f${this.#nextId++}`,
      endpoint: spec.endpoint ?? 'web-api',
      remaining: spec.count ?? null,
      untilMs: spec.durationMs === undefined ? null : this.#now() + spec.durationMs,
      delivered: 0,
    };
    this.#faults.push(fault);
    return fault;
  }

  list(): Fault[] {
    this.#prune();
    return [...this.#faults];
  }

  remove(id: string): boolean {
    const i = this.#faults.findIndex((f) => f.id === id);
    if (i < 0) return false;
    this.#faults.splice(i, 1);
    return true;
  }

  clear(): void {
    this.#faults.length = 0;
  }

  /**
   * Takes the faults due for one response: every matching 'slow' (their delays add up) and the first other matching
   * fault. `userId` undefined selects app-wide faults only; a user id selects that user's faults only.
   */
  take(endpoint: Endpoint, userId: string | undefined): { delayMs: number; fault: Fault | undefined } {
    this.#prune();
    let delayMs = 0;
    let fault: Fault | undefined;
    for (const f of this.#faults) {
      if (f.userId !== userId || !covers(f.endpoint, endpoint)) continue;
      if (f.kind === 'slow') {
        delayMs += f.delayMs ?? 2000;
        this.#charge(f);
      } else if (!fault && (f.kind !== 'invalid-grant' || endpoint === 'token')) {
        fault = f;
        this.#charge(f);
      }
    }
    this.#prune();
    return { delayMs, fault };
  }

  #charge(f: Fault): void {
    f.delivered++;
    if (f.remaining !== null) f.remaining--;
  }

  #prune(): void {
    const now = this.#now();
    for (let i = this.#faults.length - 1; i >= 0; i--) {
      const f = this.#faults[i]!;
      if ((f.remaining !== null && f.remaining <= 0) || (f.untilMs !== null && now >= f.untilMs))
        this.#faults.splice(i, 1);
    }
  }
}
