// A child process for the benchmark: started with its own env, awaited until it logs {"msg":"ready"}, its peak RSS
// read from /proc at the end. After the ready line its output is drained without parsing (only the last lines are
// kept for errors) so that the benchmark's own process spends no CPU on the services' logs.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

export interface BenchProcess {
  name: string;
  child: ChildProcess;
  port: number;
  /** resolves with the first JSON line whose msg is `msg` (lines are only parsed while someone waits) */
  waitFor(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** resolves once `count` more lines have carried `"msg":"<msg>"` (matched as text, not parsed) */
  waitForCount(msg: string, count: number, timeoutMs?: number): Promise<void>;
  /** VmHWM (peak resident set) in MiB, or null when /proc cannot tell */
  peakRssMiB(): number | null;
  stop(graceMs?: number): Promise<void>;
  tail(): string;
}

export async function startProcess(
  name: string,
  script: string,
  env: Record<string, string>,
  readyTimeoutMs = 60_000,
): Promise<BenchProcess> {
  const child = spawn(process.execPath, [script], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const recent: string[] = [];
  const waiters: { msg: string; resolve: (v: Record<string, unknown>) => void }[] = [];
  const counters: { needle: string; remaining: number; resolve: () => void }[] = [];
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  let partial = '';
  const onData = (chunk: Buffer) => {
    const text = partial + chunk.toString('utf8');
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      recent.push(line);
      if (recent.length > 40) recent.shift();
      for (let i = counters.length - 1; i >= 0; i -= 1) {
        const c = counters[i];
        if (!c || !line.includes(c.needle)) continue;
        c.remaining -= 1;
        if (c.remaining === 0) {
          counters.splice(i, 1);
          c.resolve();
        }
      }
      if (waiters.length === 0 || !line.startsWith('{')) continue;
      let json: Record<string, unknown>;
      try {
        json = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      for (let i = waiters.length - 1; i >= 0; i -= 1) {
        const w = waiters[i];
        if (w && json.msg === w.msg) {
          waiters.splice(i, 1);
          w.resolve(json);
        }
      }
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);

  const tail = () => recent.slice(-25).join('\n');
  const waitFor = (msg: string, timeoutMs = 120_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${name}: no "${msg}" within ${timeoutMs} ms\n${tail()}`)),
        timeoutMs,
      );
      const onExit = () => reject(new Error(`${name} exited before "${msg}"\n${tail()}`));
      void exit.then(onExit);
      waiters.push({
        msg,
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
      });
    });

  const waitForCount = (msg: string, count: number, timeoutMs = 120_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${name}: fewer than ${count} "${msg}" lines within ${timeoutMs} ms\n${tail()}`)),
        timeoutMs,
      );
      void exit.then(() => reject(new Error(`${name} exited before ${count} "${msg}" lines\n${tail()}`)));
      counters.push({
        needle: `"msg":${JSON.stringify(msg)}`,
        remaining: count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });

  const stop = async (graceMs = 10_000) => {
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exit;
    clearTimeout(timer);
  };

  let ready: Record<string, unknown>;
  try {
    ready = await waitFor('ready', readyTimeoutMs);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    name,
    child,
    port: Number(ready.port ?? 0),
    waitFor,
    waitForCount,
    peakRssMiB: () => peakRssMiB(child.pid),
    stop,
    tail,
  };
}

export function peakRssMiB(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    return match?.[1] ? Math.round((Number(match[1]) / 1024) * 10) / 10 : null;
  } catch {
    return null;
  }
}
