// Runs a service as a real child process (as a container would run it): its own env, every stdout and stderr line
// kept for later log scans, a wait for its `ready` line, and a stop with SIGTERM (or SIGKILL).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import path from 'node:path';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

export interface LogLine {
  stream: 'stdout' | 'stderr';
  text: string;
  /** the parsed JSON line, when it is one */
  json: Record<string, unknown> | null;
  at: number;
}

export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  lines: LogLine[];
  /** the port from the `ready` line */
  port: number;
  url: string;
  /** resolves with the exit code (or signal) once the process has ended */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** lines matching `predicate` seen so far */
  find(predicate: (line: LogLine) => boolean): LogLine[];
  /** waits until a line matches (or the process exits, or the timeout passes) */
  waitForLine(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has ended */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface SpawnOptions {
  name: string;
  /** the script, relative to the repository root, such as services/extractor/src/main.ts */
  script: string;
  env: Record<string, string | undefined>;
  args?: string[];
  /** how long to wait for the ready line (default 60 s) */
  readyTimeoutMs?: number;
  /** echo the child's lines to this process's stderr (default: when E2E_ECHO_LOGS=1) */
  echo?: boolean;
}

/** Starts `node <script>` and waits until it logs `{"msg":"ready"}`. Throws (with its last lines) if it exits first. */
export async function spawnService(options: SpawnOptions): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [options.script, ...(options.args ?? [])], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const echo = options.echo ?? process.env.E2E_ECHO_LOGS === '1';
  const lines: LogLine[] = [];
  const waiters = new Set<() => void>();
  let ended = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    // 'close': the process ended and its output was read to the end
    child.once('close', (code, signal) => {
      ended = true;
      resolve({ code, signal });
      for (const wake of [...waiters]) wake();
    });
  });
  for (const stream of ['stdout', 'stderr'] as const) {
    const source = child[stream];
    if (!source) continue;
    createInterface({ input: source }).on('line', (text) => {
      const line: LogLine = { stream, text, json: parseJson(text), at: Date.now() };
      lines.push(line);
      if (echo) process.stderr.write(`[${options.name}] ${text}\n`);
      for (const wake of [...waiters]) wake();
    });
  }

  const waitForLine = (predicate: (line: LogLine) => boolean, timeoutMs = 30_000): Promise<LogLine> =>
    new Promise<LogLine>((resolve, reject) => {
      let checked = 0;
      const check = () => {
        for (; checked < lines.length; checked += 1) {
          const line = lines[checked];
          if (line && predicate(line)) return finish(() => resolve(line));
        }
        if (ended) finish(() => reject(new Error(`${options.name} exited before the expected line:\n${tail(lines)}`)));
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`${options.name}: no expected line within ${timeoutMs} ms:\n${tail(lines)}`))),
        timeoutMs,
      );
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        settle();
      };
      waiters.add(check);
      check();
    });

  const stop = async (graceMs = 15_000) => {
    if (ended) return exited;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  };
  const kill = async () => {
    if (!ended) child.kill('SIGKILL');
    return exited;
  };

  let ready: LogLine;
  try {
    ready = await waitForLine((l) => l.json?.msg === 'ready', options.readyTimeoutMs ?? 60_000);
  } catch (error) {
    await kill();
    throw error;
  }
  const port = Number(ready.json?.port);
  return {
    name: options.name,
    child,
    lines,
    port,
    url: `http://127.0.0.1:${port}`,
    exited,
    find: (predicate) => lines.filter(predicate),
    waitForLine,
    stop,
    kill,
  };
}

function parseJson(text: string): Record<string, unknown> | null {
  if (!text.startsWith('{')) return null;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function tail(lines: readonly LogLine[], n = 30): string {
  return lines
    .slice(-n)
    .map((l) => `  ${l.stream}: ${l.text}`)
    .join('\n');
}

/** Waits for the child to end, for callers that only hold the ChildProcess. */
export async function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await once(child, 'exit');
}
