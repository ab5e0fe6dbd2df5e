import * as fs from 'node:fs';

/** USER_HZ: the unit of /proc's CPU times (100 on every Linux architecture Node runs on). */
const TICKS_PER_SEC = 100;

/**
 * CPU time (user + system) of the calling thread so far, in ms, from /proc/thread-self/stat
 * (a worker thread's own, not the process's as process.cpuUsage() gives); 10 ms resolution.
 * NaN where it cannot be read.
 */
export const threadCpuMs = (): number => {
  try {
    const stat = fs.readFileSync('/proc/thread-self/stat', 'utf8');
    // Fields after the command name, which may hold spaces: state is field 3, utime 14, stime 15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / TICKS_PER_SEC;
  } catch {
    return NaN;
  }
};
