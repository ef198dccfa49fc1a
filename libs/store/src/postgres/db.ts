// What the query modules need from pg: a pool or a client inside a transaction.
import type { Pool, PoolClient, QueryConfig, QueryResult, QueryResultRow } from 'pg';

export interface Queryable {
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
  /** a config with a `name` is a prepared statement: parsed and planned once per connection (hot paths) */
  query<R extends QueryResultRow = QueryResultRow>(config: QueryConfig): Promise<QueryResult<R>>;
}

export interface CheckedOut {
  client: PoolClient;
  /** gives the client back; a client whose connection broke (or `broken`) is destroyed instead */
  release: (broken?: Error) => void;
}

/**
 * Takes a client for exclusive use. pg-pool stops listening to a client's 'error' event while it is checked out,
 * so a connection lost then (the server stopped, a network cut) would be an unhandled event that ends the process.
 * Here it is caught: the query in flight fails with it as usual (a transient error the caller retries), and the
 * broken client is destroyed on release instead of going back to the pool.
 */
export async function checkout(pool: Pool): Promise<CheckedOut> {
  const client = await pool.connect();
  let lost: Error | undefined;
  const onError = (error: Error) => {
    lost = error;
  };
  client.on('error', onError);
  return {
    client,
    release: (broken) => {
      client.off('error', onError);
      client.release(broken ?? lost);
    },
  };
}

/** Runs `work` in one transaction on one pooled client. */
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const { client, release } = await checkout(pool);
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((e: unknown) => (broken = e instanceof Error ? e : new Error(String(e))));
    throw error;
  } finally {
    release(broken);
  }
}
