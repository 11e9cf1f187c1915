import fs from 'node:fs/promises';

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** Fields 14-17 of /proc/<pid>/stat: utime, stime, cutime, cstime (ticks); after the command, which may hold spaces. */
async function ticks(pid: number): Promise<{ own: number; reaped: number; ppid: number } | undefined> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!stat) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, so fields[11].
  const at = (field: number) => Number(fields[field - 3]);
  return { own: at(14) + at(15), reaped: at(16) + at(17), ppid: at(4) };
}

/** CPU milliseconds used so far by one process (its threads included). */
export async function processCpuMs(pid: number): Promise<number> {
  const t = await ticks(pid);
  return t ? (t.own * 1000) / TICKS_PER_SECOND : 0;
}

/**
 * CPU milliseconds used so far by a PostgreSQL cluster: the postmaster, its
 * live children (backends, checkpointer, …) and the children it has reaped,
 * so backends that ended during a window still count.
 */
export async function clusterCpuMs(postmasterPid: number): Promise<number> {
  const postmaster = await ticks(postmasterPid);
  if (!postmaster) return 0;
  let total = postmaster.own + postmaster.reaped;
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const child = await ticks(Number(entry));
    if (child?.ppid === postmasterPid) total += child.own;
  }
  return (total * 1000) / TICKS_PER_SECOND;
}

/** The postmaster's pid: the first line of postmaster.pid in the cluster's data directory. */
export async function postmasterPid(clusterDir: string): Promise<number> {
  return Number((await fs.readFile(`${clusterDir}/postmaster.pid`, 'utf8')).split('\n')[0]);
}

/** CPU milliseconds every core of the machine has been busy so far (all but idle and iowait in /proc/stat), whoever used them. */
export async function machineBusyCpuMs(): Promise<number> {
  const [user, nice, system, , , irq, softirq, steal] = (await fs.readFile('/proc/stat', 'utf8')).split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  return ((user! + nice! + system! + irq! + softirq! + steal!) * 1000) / TICKS_PER_SECOND;
}
