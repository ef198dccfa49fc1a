// CPU time spent by a side while its clock runs: its own processes, and the servers every side shares (all
// PostgreSQL processes, redis-server), read from /proc before and after. On a shared machine throughput moves with
// the load; the CPU a side needs per page moves much less, so the report gives both.
import { readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** utime + stime of `pid` in ms, or null when it is gone */
function cpuMsOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return null;
  }
}

function commOf(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** every PostgreSQL and Redis server process, by pid */
function serverPids(): Map<number, 'postgres' | 'redis'> {
  const pids = new Map<number, 'postgres' | 'redis'>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const comm = commOf(entry);
    if (comm === 'postgres') pids.set(Number(entry), 'postgres');
    else if (comm.startsWith('redis-server')) pids.set(Number(entry), 'redis');
  }
  return pids;
}

export interface CpuMeter {
  /** CPU ms used since the meter started, by process name, 'postgres' and 'redis' */
  stop(): Record<string, number>;
}

/** Starts measuring `processes` (name, pid) and the servers. PostgreSQL backends started meanwhile count whole. */
export function startCpuMeter(processes: { name: string; pid: number | undefined }[]): CpuMeter {
  const servers = serverPids();
  const before = new Map<number, number>();
  for (const pid of [...servers.keys(), ...processes.map((p) => p.pid)]) {
    if (pid === undefined) continue;
    before.set(pid, cpuMsOf(pid) ?? 0);
  }
  const selfBefore = process.cpuUsage();
  return {
    stop() {
      const used: Record<string, number> = {};
      const add = (name: string, ms: number) => {
        used[name] = (used[name] ?? 0) + Math.max(0, ms);
      };
      for (const p of processes) {
        if (p.pid === undefined) continue;
        add(p.name, (cpuMsOf(p.pid) ?? 0) - (before.get(p.pid) ?? 0));
      }
      for (const [pid, kind] of serverPids()) {
        const now = cpuMsOf(pid);
        if (now !== null) add(kind, now - (before.get(pid) ?? 0));
      }
      const self = process.cpuUsage(selfBefore);
      add('bench', (self.user + self.system) / 1000);
      return used;
    },
  };
}
