// Which process holds a TCP connection: maps a local port (as PostgreSQL's pg_stat_activity.client_port shows it) to
// the pid of the process that owns the socket, with `ss` (as root, or for our own children, ss shows owners).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function pidOwningLocalPort(port: number): Promise<number | null> {
  const { stdout } = await run('ss', ['-tnpH', 'state', 'established', `( sport = :${port} )`]);
  const match = /pid=(\d+)/.exec(stdout);
  return match?.[1] ? Number(match[1]) : null;
}
