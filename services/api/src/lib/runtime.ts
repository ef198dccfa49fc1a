// The V8 heap settings the api runs with. An export of a long history allocates a lot of short-lived garbage
// (rows from the database cursor, one line per play); with V8's defaults on a large machine, the young
// generation grows to 64 MB semi-spaces and promoted garbage piles up in old space until a late major GC,
// so resident memory climbs by 100+ MB during a slow export although nothing is retained. A small young
// generation and a bounded old space make V8 collect early: measured in test/export-memory.test.ts, the rise
// of RSS during an export of 100,000 plays stays around 10 MB for 10,000 and 100,000 plays alike. Set them through NODE_OPTIONS (or the start script).
import v8 from 'node:v8';

export const API_NODE_OPTIONS = '--max-old-space-size=96 --max-semi-space-size=2';

/** True when the process runs with a heap limit close to the one above (not V8's multi-GB default). */
export function heapTuned(): boolean {
  return v8.getHeapStatistics().heap_size_limit <= 160 * 1024 * 1024;
}
