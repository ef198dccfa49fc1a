// The PostgreSQL adapter of the Store (through `pg`). Query modules beside this file hold the SQL; this class wires
// them to one pool and keeps transactions where a method needs one.
import pg from 'pg';
import type { DeadLetterJob, ExtractionTrigger, LoadJob, Logger } from '@playledger/common';
import { DEFAULT_CATALOG_CACHE_ENTRIES, type StoreOptions } from '../create-store.ts';
import { CatalogCache } from '../shared/catalog-cache.ts';
import type {
  Credentials,
  DeadLetter,
  DeadLetterFilter,
  EncryptedValue,
  Extraction,
  ExtractionState,
  Gap,
  LoadResult,
  Page,
  PlayKey,
  Store,
  StoredPlay,
  User,
  UserLogin,
  UserStatus,
} from '../types.ts';
import { inTransaction } from './db.ts';
import * as deadLetters from './dead-letters.ts';
import * as extractions from './extractions.ts';
import { migrate } from './migrate.ts';
import { MIGRATIONS, type Migration } from './migrations.ts';
import * as plays from './plays.ts';
import * as users from './users.ts';

export interface PostgresStoreOptions extends StoreOptions {
  /** migrations applied after the product's own (tests: a migration that sleeps, to show replicas waiting) */
  extraMigrations?: readonly Migration[];
}

export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly #pool: pg.Pool;
  /** loadBatch's own clients, pipelined (plays.ts): its transaction takes two round trips instead of six */
  readonly #loadPool: pg.Pool;
  readonly #catalog: CatalogCache;
  readonly #logger: Logger;
  readonly #migrations: readonly Migration[];

  constructor(options: PostgresStoreOptions) {
    this.#logger = options.logger.child({ component: 'store', store: 'postgres' });
    this.#migrations = [...MIGRATIONS, ...(options.extraMigrations ?? [])];
    this.#catalog = new CatalogCache(options.catalogCacheEntries ?? DEFAULT_CATALOG_CACHE_ENTRIES);
    const settings: pg.PoolConfig = {
      connectionString: options.url,
      max: options.poolSize ?? 10,
      // an unreachable server fails a query (and readiness) instead of hanging it
      connectionTimeoutMillis: 10_000,
      keepAlive: true,
      fallback_application_name: 'playledger',
    };
    this.#pool = new pg.Pool(settings);
    this.#loadPool = new pg.Pool({ ...settings, pipeline: true });
    // an idle client losing its connection must not crash the process: the next query reconnects
    for (const pool of [this.#pool, this.#loadPool]) {
      pool.on('error', (error) => this.#logger.warn({ err: error }, 'idle database connection failed'));
    }
  }

  migrate(): Promise<{ applied: string[] }> {
    return migrate(this.#pool, this.#migrations, this.#logger);
  }

  async ping(): Promise<void> {
    await this.#pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await Promise.all([this.#pool.end(), this.#loadPool.end()]);
  }

  // users and credentials
  saveLogin(login: UserLogin): Promise<User> {
    return inTransaction(this.#pool, (db) => users.saveLogin(db, login));
  }
  getUser(userId: string): Promise<User | null> {
    return users.getUser(this.#pool, userId);
  }
  listUsers(filter?: { status?: UserStatus }): Promise<User[]> {
    return users.listUsers(this.#pool, filter);
  }
  setUserStatus(userId: string, status: UserStatus, reason: string | null): Promise<User | null> {
    return users.setUserStatus(this.#pool, userId, status, reason);
  }
  getCredentials(userId: string): Promise<Credentials | null> {
    return users.getCredentials(this.#pool, userId);
  }
  updateRefreshToken(userId: string, refreshToken: EncryptedValue): Promise<void> {
    return users.updateRefreshToken(this.#pool, userId, refreshToken);
  }
  listUsersAuthorizedBefore(authorizedBefore: Date): Promise<User[]> {
    return users.listUsersAuthorizedBefore(this.#pool, authorizedBefore);
  }
  deleteUser(userId: string, options: { purgePlays: boolean }): Promise<boolean> {
    return inTransaction(this.#pool, async (db) => {
      await extractions.lockUser(db, userId);
      return users.deleteUser(db, userId, options.purgePlays);
    });
  }

  // extractions
  startExtraction(e: {
    id: string;
    userId: string;
    trigger: ExtractionTrigger;
    requestedAt: Date;
  }): Promise<Extraction> {
    return extractions.startExtraction(this.#pool, e);
  }
  markExtractionFetched(
    id: string,
    page: { fetchedAt: Date; fetched: number; full: boolean; oldestPlayedAt: Date | null; newestPlayedAt: Date | null },
  ): Promise<void> {
    return extractions.markExtractionFetched(this.#pool, id, page);
  }
  setExtractionState(id: string, state: 'validating' | 'loading'): Promise<void> {
    return extractions.setExtractionState(this.#pool, id, state);
  }
  async finishExtraction(id: string, state: 'no_new_plays' | 'failed', reason: string | null): Promise<void> {
    const current = await extractions.getExtraction(this.#pool, id);
    if (!current) return;
    await inTransaction(this.#pool, async (db) => {
      await extractions.lockUser(db, current.userId);
      const userId = await extractions.finishExtraction(db, id, state, reason);
      if (userId) await extractions.evaluateGaps(db, userId, this.#logger);
    });
  }
  getExtraction(id: string): Promise<Extraction | null> {
    return extractions.getExtraction(this.#pool, id);
  }
  listExtractions(filter: {
    userId?: string;
    state?: ExtractionState;
    limit: number;
    cursor?: string;
  }): Promise<Page<Extraction>> {
    return extractions.listExtractions(this.#pool, filter);
  }
  findPendingExtraction(userId: string): Promise<Extraction | null> {
    return extractions.findPendingExtraction(this.#pool, userId);
  }
  async failStaleExtractions(olderThan: Date): Promise<number> {
    const touched = await extractions.failStaleExtractions(this.#pool, olderThan);
    for (const userId of new Set(touched)) {
      await inTransaction(this.#pool, async (db) => {
        await extractions.lockUser(db, userId);
        await extractions.evaluateGaps(db, userId, this.#logger);
      });
    }
    if (touched.length) this.#logger.warn({ count: touched.length }, 'stale extractions failed (lost in transit)');
    return touched.length;
  }

  // plays
  loadBatch(job: LoadJob): Promise<LoadResult> {
    return plays.loadBatch(
      this.#loadPool,
      job,
      this.#catalog,
      this.#logger.child({ extractionId: job.extractionId, userId: job.userId }),
    );
  }
  countUnknownPlays(userId: string, keys: PlayKey[]): Promise<number> {
    return plays.countUnknownPlays(this.#pool, userId, keys);
  }
  newestPlayedAt(userId: string): Promise<Date | null> {
    return plays.newestPlayedAt(this.#pool, userId);
  }
  countPlays(userId: string): Promise<number> {
    return plays.countPlays(this.#pool, userId);
  }
  listPlays(
    userId: string,
    range: { from?: Date; to?: Date; limit: number; cursor?: string },
  ): Promise<Page<StoredPlay>> {
    return plays.listPlays(this.#pool, userId, range);
  }
  streamPlays(userId: string, range: { from?: Date; to?: Date }): AsyncIterable<StoredPlay> {
    return plays.streamPlays(this.#pool, userId, range);
  }
  listGaps(filter: { userId?: string; limit: number; cursor?: string }): Promise<Page<Gap>> {
    return extractions.listGaps(this.#pool, filter);
  }

  // dead letters
  recordDeadLetter(job: DeadLetterJob): Promise<DeadLetter> {
    return deadLetters.recordDeadLetter(this.#pool, job);
  }
  listDeadLetters(filter: DeadLetterFilter, page: { limit: number; cursor?: string }): Promise<Page<DeadLetter>> {
    return deadLetters.listDeadLetters(this.#pool, filter, page);
  }
  getDeadLetter(id: string): Promise<DeadLetter | null> {
    return deadLetters.getDeadLetter(this.#pool, id);
  }
  correctDeadLetter(id: string, correction: unknown): Promise<DeadLetter | null> {
    return deadLetters.correctDeadLetter(this.#pool, id, correction);
  }
  markDeadLetterReplayed(id: string): Promise<void> {
    return deadLetters.markDeadLetterReplayed(this.#pool, id);
  }
  resolveDeadLetter(id: string): Promise<void> {
    return deadLetters.resolveDeadLetter(this.#pool, id);
  }
  deleteDeadLetter(id: string): Promise<boolean> {
    return deadLetters.deleteDeadLetter(this.#pool, id);
  }
}
