/**
 * The CPU time of the PostgreSQL server's processes on this machine (postmaster, backends, WAL writer,
 * checkpointer…), for charging each issuance its share of the database's work beside the issuing process's
 * own (bench/issuance.ts): on two cores both come out of the same budget. Read from /proc; undefined when no
 * local `postgres` process is visible (a remote server, another OS), so the column stays empty rather than 0.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

/** Clock ticks per second of /proc's utime and stime (USER_HZ; 100 on every Linux we know, read once). */
function userHz(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** Summed user + system CPU time of every process named `postgres`, in ms; undefined when there is none. */
export function postgresServerCpuMs(): number | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  let ticks = 0;
  let seen = false;
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${e}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // "pid (comm) state ppid …": comm may hold spaces, so split after its closing parenthesis
    const close = stat.lastIndexOf(')');
    if (stat.slice(stat.indexOf('(') + 1, close) !== 'postgres') continue;
    const fields = stat.slice(close + 2).split(' ');
    // utime, stime, and cutime, cstime (fields 14–17 of stat): a backend that exited (its connection
    // closed) is counted in the postmaster's children's time once reaped, and is in /proc no more
    ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    seen = true;
  }
  return seen ? (ticks * 1000) / userHz() : undefined;
}
