// Everything the simulator knows, in one object that routes receive (no module-level state).
import { buildCatalog, type Catalog } from './catalog.ts';
import { VirtualClock } from './clock.ts';
import { UserListening } from './ledger.ts';
import { TokenStore, type Rotation } from './tokens.ts';
import { FaultBoard } from './faults.ts';
import { CallCounter } from './calls.ts';
import { ReplayQueues } from './replay.ts';
import { DEFAULT_APP, type App } from './apps.ts';
import { base62Id } from './random.ts';

export interface UserSpec {
  id?: string;
  displayName?: string;
  playsPerHour?: number;
}

export interface SimUser {
  id: string;
  displayName: string;
  accountId: string;
  rotateRefreshTokens: Rotation;
  /** Consented at /authorize at least once (so it is no longer "free"). */
  consented: boolean;
  listening: UserListening;
}

export type NextLogin = { userId: string } | { deny: true };

export interface StateOptions {
  seed: string;
  users: number | UserSpec[];
  apps: App[];
  clockStartMs: number;
  clockRunning: boolean;
  historyMs: number;
  playsPerHour: number;
}

export class SimState {
  readonly seed: string;
  readonly catalog: Catalog;
  readonly clock: VirtualClock;
  readonly tokens = new TokenStore();
  readonly faults = new FaultBoard();
  readonly calls = new CallCounter();
  readonly replays = new ReplayQueues();
  readonly apps = new Map<string, App>();
  readonly users = new Map<string, SimUser>();
  readonly nextLogins: NextLogin[] = [];
  readonly #historyMs: number;
  readonly #playsPerHour: number;

  constructor(options: StateOptions) {
    this.seed = options.seed;
    this.catalog = buildCatalog(options.seed);
    this.clock = new VirtualClock(options.clockStartMs, options.clockRunning);
    this.#historyMs = options.historyMs;
    this.#playsPerHour = options.playsPerHour;
    for (const app of options.apps) this.apps.set(app.clientId, { ...app });
    const specs = typeof options.users === 'number' ? Array.from({ length: options.users }, () => ({})) : options.users;
    for (const spec of specs) this.addUser(spec);
  }

  addUser(spec: UserSpec): SimUser {
    const n = this.users.size + 1;
    let id = spec.id ?? `sim-user-${n}`;
    for (let k = n; this.users.has(id) && spec.id === undefined; k++) id = `sim-user-${k + 1}`;
    if (this.users.has(id)) throw new RangeError(`user ${id} exists`);
    const originMs = this.clock.now() - this.#historyMs;
    const user: SimUser = {
      id,
      displayName: spec.displayName ?? `Sim User ${n}`,
      accountId: base62Id(`${this.seed}:account:${id}`, 10),
      rotateRefreshTokens: 'off',
      consented: false,
      listening: new UserListening(this.catalog, this.seed, id, originMs, spec.playsPerHour ?? this.#playsPerHour),
    };
    this.users.set(id, user);
    return user;
  }

  /** The user whose listening is current up to virtual now. */
  user(id: string): SimUser | undefined {
    const user = this.users.get(id);
    user?.listening.materialize(this.clock.now());
    return user;
  }

  /** Generates every user's plays up to now (before the clock moves or a rate changes). */
  materializeAll(): void {
    const now = this.clock.now();
    for (const u of this.users.values()) u.listening.materialize(now);
  }

  /** Who consents at the next /authorize: the queued choice, else the first free user, else a new user. */
  nextConsent(): NextLogin {
    const queued = this.nextLogins.shift();
    if (queued) return queued;
    for (const u of this.users.values()) if (!u.consented) return { userId: u.id };
    return { userId: this.addUser({}).id };
  }
}

export const DEFAULT_STATE_OPTIONS: StateOptions = {
  seed: '1',
  users: 3,
  apps: [DEFAULT_APP],
  clockStartMs: 0,
  clockRunning: false,
  historyMs: 24 * 60 * 60_000,
  playsPerHour: 8,
};
