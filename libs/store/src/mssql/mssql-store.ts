// The SQL Server adapter of the Store (through `mssql` with tedious). Query modules beside this file hold the T-SQL;
// this class wires them to one pool and keeps transactions where a method needs one. Nothing connects before the
// first query (or migrate/ping).
import sql from 'mssql';
import {
  registerSecret,
  type DeadLetterJob,
  type ExtractionTrigger,
  type LoadJob,
  type Logger,
} from '@playledger/common';
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
import { inTransaction, lockUser, watchPool } from './db.ts';
import * as deadLetters from './dead-letters.ts';
import * as extractions from './extractions.ts';
import { ensureDatabase, migrate } from './migrate.ts';
import * as plays from './plays.ts';
import { MIGRATIONS, type Migration } from './schema.ts';
import { parseMssqlUrl, type MssqlTarget } from './url.ts';
import * as users from './users.ts';

export interface MssqlStoreOptions extends StoreOptions {
  /** migrations applied after the product's own (tests: a migration that waits, to show replicas waiting) */
  extraMigrations?: readonly Migration[];
}

export class MssqlStore implements Store {
  readonly kind = 'mssql' as const;
  readonly #target: MssqlTarget;
  readonly #catalog: CatalogCache;
  readonly #logger: Logger;
  readonly #migrations: readonly Migration[];
  #pool: Promise<sql.ConnectionPool> | null = null;
  #closed = false;

  constructor(options: MssqlStoreOptions) {
    this.#target = parseMssqlUrl(options.url, options.poolSize);
    registerSecret(this.#target.config.password);
    this.#logger = options.logger.child({ component: 'store', store: 'mssql', database: this.#target.display });
    this.#migrations = [...MIGRATIONS, ...(options.extraMigrations ?? [])];
    this.#catalog = new CatalogCache(options.catalogCacheEntries ?? DEFAULT_CATALOG_CACHE_ENTRIES);
  }

  /** The pool, connected on first use; a failed connect is forgotten so that the next call tries again. */
  #db(): Promise<sql.ConnectionPool> {
    if (this.#closed) return Promise.reject(new Error('the store is closed'));
    if (!this.#pool) {
      const pool = new sql.ConnectionPool(this.#target.config);
      watchPool(pool, this.#logger);
      this.#pool = pool.connect().catch((error: unknown) => {
        this.#pool = null;
        throw error;
      });
    }
    return this.#pool;
  }

  async migrate(): Promise<{ applied: string[] }> {
    await ensureDatabase(this.#target, this.#logger);
    return migrate(await this.#db(), this.#migrations, this.#logger);
  }

  async ping(): Promise<void> {
    await (await this.#db()).request().query('SELECT 1 AS ok');
  }

  async close(): Promise<void> {
    this.#closed = true;
    const pending = this.#pool;
    this.#pool = null;
    if (!pending) return;
    const pool = await pending.catch(() => null);
    await pool?.close();
  }

  // users and credentials
  async saveLogin(login: UserLogin): Promise<User> {
    return inTransaction(await this.#db(), (tx) => users.saveLogin(tx, login));
  }
  async getUser(userId: string): Promise<User | null> {
    return users.getUser(await this.#db(), userId);
  }
  async listUsers(filter?: { status?: UserStatus }): Promise<User[]> {
    return users.listUsers(await this.#db(), filter);
  }
  async setUserStatus(userId: string, status: UserStatus, reason: string | null): Promise<User | null> {
    return users.setUserStatus(await this.#db(), userId, status, reason);
  }
  async getCredentials(userId: string): Promise<Credentials | null> {
    return users.getCredentials(await this.#db(), userId);
  }
  async updateRefreshToken(userId: string, refreshToken: EncryptedValue): Promise<void> {
    return users.updateRefreshToken(await this.#db(), userId, refreshToken);
  }
  async listUsersAuthorizedBefore(authorizedBefore: Date): Promise<User[]> {
    return users.listUsersAuthorizedBefore(await this.#db(), authorizedBefore);
  }
  async deleteUser(userId: string, options: { purgePlays: boolean }): Promise<boolean> {
    return inTransaction(await this.#db(), async (tx) => {
      await lockUser(tx, userId);
      return users.deleteUser(tx, userId, options.purgePlays);
    });
  }

  // extractions
  async startExtraction(e: {
    id: string;
    userId: string;
    trigger: ExtractionTrigger;
    requestedAt: Date;
  }): Promise<Extraction> {
    return extractions.startExtraction(await this.#db(), e);
  }
  async markExtractionFetched(
    id: string,
    page: { fetchedAt: Date; fetched: number; full: boolean; oldestPlayedAt: Date | null; newestPlayedAt: Date | null },
  ): Promise<void> {
    return extractions.markExtractionFetched(await this.#db(), id, page);
  }
  async setExtractionState(id: string, state: 'validating' | 'loading'): Promise<void> {
    return extractions.setExtractionState(await this.#db(), id, state);
  }
  async finishExtraction(id: string, state: 'no_new_plays' | 'failed', reason: string | null): Promise<void> {
    const pool = await this.#db();
    const current = await extractions.getExtraction(pool, id);
    if (!current) return;
    await inTransaction(pool, async (tx) => {
      await lockUser(tx, current.userId);
      const userId = await extractions.finishExtraction(tx, id, state, reason);
      if (userId) await extractions.evaluateGaps(tx, userId, this.#logger);
    });
  }
  async getExtraction(id: string): Promise<Extraction | null> {
    return extractions.getExtraction(await this.#db(), id);
  }
  async listExtractions(filter: {
    userId?: string;
    state?: ExtractionState;
    limit: number;
    cursor?: string;
  }): Promise<Page<Extraction>> {
    return extractions.listExtractions(await this.#db(), filter);
  }
  async findPendingExtraction(userId: string): Promise<Extraction | null> {
    return extractions.findPendingExtraction(await this.#db(), userId);
  }
  async failStaleExtractions(olderThan: Date): Promise<number> {
    const pool = await this.#db();
    const touched = await extractions.failStaleExtractions(pool, olderThan);
    for (const userId of new Set(touched)) {
      await inTransaction(pool, async (tx) => {
        await lockUser(tx, userId);
        await extractions.evaluateGaps(tx, userId, this.#logger);
      });
    }
    if (touched.length) this.#logger.warn({ count: touched.length }, 'stale extractions failed (lost in transit)');
    return touched.length;
  }

  // plays
  async loadBatch(job: LoadJob): Promise<LoadResult> {
    return plays.loadBatch(
      await this.#db(),
      job,
      this.#catalog,
      this.#logger.child({ extractionId: job.extractionId, userId: job.userId }),
    );
  }
  async countUnknownPlays(userId: string, keys: PlayKey[]): Promise<number> {
    return plays.countUnknownPlays(await this.#db(), userId, keys);
  }
  async newestPlayedAt(userId: string): Promise<Date | null> {
    return plays.newestPlayedAt(await this.#db(), userId);
  }
  async countPlays(userId: string): Promise<number> {
    return plays.countPlays(await this.#db(), userId);
  }
  async listPlays(
    userId: string,
    range: { from?: Date; to?: Date; limit: number; cursor?: string },
  ): Promise<Page<StoredPlay>> {
    return plays.listPlays(await this.#db(), userId, range);
  }
  async *streamPlays(userId: string, range: { from?: Date; to?: Date }): AsyncIterable<StoredPlay> {
    yield* plays.streamPlays(await this.#db(), userId, range);
  }
  async listGaps(filter: { userId?: string; limit: number; cursor?: string }): Promise<Page<Gap>> {
    return extractions.listGaps(await this.#db(), filter);
  }

  // dead letters
  async recordDeadLetter(job: DeadLetterJob): Promise<DeadLetter> {
    return deadLetters.recordDeadLetter(await this.#db(), job);
  }
  async listDeadLetters(filter: DeadLetterFilter, page: { limit: number; cursor?: string }): Promise<Page<DeadLetter>> {
    return deadLetters.listDeadLetters(await this.#db(), filter, page);
  }
  async getDeadLetter(id: string): Promise<DeadLetter | null> {
    return deadLetters.getDeadLetter(await this.#db(), id);
  }
  async correctDeadLetter(id: string, correction: unknown): Promise<DeadLetter | null> {
    return deadLetters.correctDeadLetter(await this.#db(), id, correction);
  }
  async markDeadLetterReplayed(id: string): Promise<void> {
    return deadLetters.markDeadLetterReplayed(await this.#db(), id);
  }
  async resolveDeadLetter(id: string): Promise<void> {
    return deadLetters.resolveDeadLetter(await this.#db(), id);
  }
  async deleteDeadLetter(id: string): Promise<boolean> {
    return deadLetters.deleteDeadLetter(await this.#db(), id);
  }
}
