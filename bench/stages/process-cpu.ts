import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ, 100 on Linux). */
const CLOCK_TICKS_PER_S = 100;

/**
 * CPU time (user + system) another process has used so far, in µs, from /proc/<pid>/stat fields
 * 14 (utime) and 15 (stime). The resolution is one tick (10 ms), so a measurement must run long
 * enough for many ticks. CPU time, unlike wall time, does not grow when a neighbour takes the core.
 */
export function processCpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so field n is fields[n - 3].
  const ticks = Number(fields[14 - 3]) + Number(fields[15 - 3]);
  if (!Number.isFinite(ticks)) throw new Error(`cannot read the CPU times of process ${pid}`);
  return ticks * (1e6 / CLOCK_TICKS_PER_S);
}

/** This process's CPU time (user + system) so far, in µs. */
export function ownCpuUs(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}
