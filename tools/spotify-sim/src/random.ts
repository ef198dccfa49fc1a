// Deterministic randomness: every value derives from a string key (seed + purpose), never from Math.random.

/** A 32-bit hash of a string (cyrb53 folded to 32 bits). */
export function hash32(key: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < key.length; i++) {
    const ch = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (h1 ^ h2) >>> 0;
}

/** A small seeded generator (mulberry32). */
export class Rng {
  #state: number;

  constructor(key: string) {
    this.#state = hash32(key);
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max] (inclusive). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A Spotify-like base62 id (22 characters by default), derived from a key. */
export function base62Id(key: string, length = 22): string {
  const rng = new Rng(`id:${key}`);
  let id = '';
  for (let i = 0; i < length; i++) id += BASE62[rng.int(0, 61)];
  return id;
}

/** Lower-case hex derived from a key (image hashes, preview hashes). */
export function hexId(key: string, length: number): string {
  const rng = new Rng(`hex:${key}`);
  let out = '';
  for (let i = 0; i < length; i++) out += rng.int(0, 15).toString(16);
  return out;
}
