import type { Logger } from '@playledger/common';
import type { Store } from './types.ts';

export interface StoreOptions {
  kind: 'postgres' | 'mssql';
  url: string;
  logger: Logger;
  /** pool size per process */
  poolSize?: number;
  /**
   * tracks (with their album and artists) loadBatch remembers as stored, so that batches repeating them send only
   * their plays (shared/catalog-cache.ts); default 20,000, 0 turns it off
   */
  catalogCacheEntries?: number;
}

export const DEFAULT_CATALOG_CACHE_ENTRIES = 20_000;

/** Builds the adapter for `kind`. Nothing connects until the first query (or migrate/ping). */
export async function createStore(options: StoreOptions): Promise<Store> {
  switch (options.kind) {
    case 'postgres': {
      const { PostgresStore } = await import('./postgres/postgres-store.ts');
      return new PostgresStore(options);
    }
    case 'mssql': {
      const { MssqlStore } = await import('./mssql/mssql-store.ts');
      return new MssqlStore(options);
    }
  }
}
