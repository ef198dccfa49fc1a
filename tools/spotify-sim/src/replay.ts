// Replay: recorded recently-played bodies served in order for one user, then back to generated listening.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface ReplaySource {
  dir?: string;
  files?: string[];
  pages?: unknown[];
}

/** Loads the bodies to replay, as text (files are served byte for byte; each must hold JSON). */
export async function loadReplay(source: ReplaySource): Promise<string[]> {
  if (source.pages) return source.pages.map((p) => JSON.stringify(p));
  let files = source.files ?? [];
  if (source.dir !== undefined) {
    const dir = source.dir;
    const names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
    files = names.map((n) => join(dir, n));
  }
  if (files.length === 0) throw new RangeError('nothing to replay: give dir (with *.json), files or pages');
  const bodies: string[] = [];
  for (const file of files) {
    const text = await readFile(file, 'utf8');
    JSON.parse(text);
    bodies.push(text);
  }
  return bodies;
}

export class ReplayQueues {
  readonly #queues = new Map<string, string[]>();

  set(userId: string, bodies: string[]): void {
    this.#queues.set(userId, [...bodies]);
  }

  next(userId: string): string | undefined {
    const queue = this.#queues.get(userId);
    const body = queue?.shift();
    if (queue && queue.length === 0) this.#queues.delete(userId);
    return body;
  }

  remaining(userId: string): number {
    return this.#queues.get(userId)?.length ?? 0;
  }

  stop(userId: string): void {
    this.#queues.delete(userId);
  }
}
