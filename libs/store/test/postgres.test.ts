// The conformance suite against PostgreSQL: a fresh database on the machine's server, through createStore.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@playledger/common';
import { createTestDatabase } from '../../../test/support/postgres.ts';
import { createStore } from '../src/create-store.ts';
import { describeStoreConformance, type PlayedTrackViewRow } from './conformance.ts';

describeStoreConformance('postgres', async () => {
  const db = await createTestDatabase('store_conformance');
  const store = await createStore({
    kind: 'postgres',
    url: db.url,
    logger: createLogger({ name: 'store-conformance', level: 'error' }),
  });
  const viewPool = new pg.Pool({ connectionString: db.url, max: 1 });
  return {
    store,
    async cleanup() {
      await store.close();
      await viewPool.end();
      await db.drop();
    },
    async readPlayedTracksView(userId: string) {
      const r = await viewPool.query<PlayedTrackViewRow>(
        `SELECT primary_key, song_name, artist_name, "timestamp" FROM my_played_tracks
         WHERE user_id = $1 ORDER BY primary_key COLLATE "C"`,
        [userId],
      );
      return r.rows;
    },
  };
});

describe('PostgreSQL adapter specifics', () => {
  it('ping and migrate fail (they do not hang) when the server cannot be reached', async () => {
    const store = await createStore({
      kind: 'postgres',
      url: 'postgres://postgres@127.0.0.1:1/none',
      logger: createLogger({ name: 'store-unreachable', level: 'silent' }),
    });
    try {
      await expect(store.ping()).rejects.toThrow();
      await expect(store.migrate()).rejects.toThrow();
    } finally {
      await store.close();
    }
  });
});
