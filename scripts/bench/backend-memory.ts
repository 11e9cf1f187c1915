import fs from 'node:fs/promises';
import type pg from 'pg';

export interface BackendMemory {
  /** Client backends of the application when read. */
  readonly backends: number;
  /** Of those, how many /proc would not show (PostgreSQL running as a user this process may not inspect): they are not in the figures. */
  readonly unreadable: number;
  /** Memory private to each backend (smaps_rollup Private_Clean + Private_Dirty), which excludes shared buffers: mean and largest, MB. */
  readonly meanPrivateMb: number;
  readonly maxPrivateMb: number;
}

/**
 * The private memory of the PostgreSQL backends serving `applicationName`
 * (pg_stat_activity), read from /proc: a backend's catalog caches live
 * there, and grow with every schema it touches.
 */
export async function backendMemory(pool: pg.Pool, applicationName: string): Promise<BackendMemory> {
  const { rows } = await pool.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND backend_type = 'client backend'`, [applicationName]);
  const sizes: number[] = [];
  for (const { pid } of rows) {
    const rollup = await fs.readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? 0);
    if (rollup) sizes.push((kb('Private_Clean') + kb('Private_Dirty')) / 1024);
  }
  const round = (mb: number) => Math.round(mb * 10) / 10;
  return {
    backends: rows.length,
    unreadable: rows.length - sizes.length,
    meanPrivateMb: round(sizes.length ? sizes.reduce((a, b) => a + b, 0) / sizes.length : 0),
    maxPrivateMb: round(Math.max(0, ...sizes)),
  };
}

/** `url` with its connections named `applicationName`, so their backends can be told apart. */
export function withApplicationName(url: string, applicationName: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('application_name', applicationName);
  return parsed.toString();
}
