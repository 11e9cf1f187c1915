import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { issueAccessToken } from '../../src/auth/access-token.js';
import { findTenantAuth } from '../../src/auth/tenant-auth.repository.js';
import { PROJECT_ROOT, type Config } from '../../src/config.js';
import type { Tenant } from '../../src/db/control-database.js';
import { openDatabase } from '../../src/db/database.js';
import { migrateControlPlane } from '../../src/migrations/migrate-control.js';
import { loadTemplates } from '../../src/migrations/template.js';
import { seedBenchTenants, type BenchDataSize } from './bench-tenants.js';
import { backendMemory, withApplicationName, type BackendMemory } from './backend-memory.js';
import { clusterCpuMs, postmasterPid, processCpuMs } from './process-cpu.js';
import { LIST_PAGE_HASH, LIST_PAGE_QUERY, type Target } from './list-page-query.js';

export interface ListPageBenchmarkOptions {
  readonly tenants: number;
  readonly size: BenchDataSize;
  readonly connections: number;
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  readonly rounds: number;
  /** Connections each server process may hold. */
  readonly poolSize: number;
  /** Also measure with requests spread over only this many tenants (the scale comparison). */
  readonly hotTenants: number | undefined;
  /** Write a V8 CPU profile of the schemata server into this directory. */
  readonly profileDir?: string | undefined;
  /**
   * The schemata server's RESPONSE_CACHE_TTL_MS. @default 0, off: the floor
   * caches nothing, so the standard comparison runs without the cache.
   */
  readonly responseCacheTtlMs?: number;
  /** Percent of schemata requests that are writes (createProject by a member), each invalidating its tenant's cached reads. @default 0 */
  readonly writePercent?: number;
  /** Run schemata with the list page as its one trusted document (TRUSTED_DOCUMENTS_ONLY) and send its hash instead of the query. @default false */
  readonly trustedDocuments?: boolean;
  readonly onProgress?: (message: string) => void;
}

export interface LoadResult {
  readonly target: Target;
  readonly tenants: number;
  readonly requestsPerSecond: number;
  readonly totalRequests: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  readonly sampled: number;
  readonly foreignRows: number;
  readonly emptyOrInvalid: number;
  readonly writes: number;
  readonly failedWrites: number;
  /** Response-cache lookups during the run, from the server's /metrics (schemata only). */
  readonly cache?: { readonly hits: number; readonly misses: number };
  /** CPU the target's server process used during the run, from /proc (ms). */
  readonly serverCpuMs: number;
  /** CPU PostgreSQL (postmaster and every backend) used during the run (ms). */
  readonly postgresCpuMs: number;
  /** How long the run lasted, as the CPU figures were read (ms). */
  readonly wallMs: number;
}

export interface Summary {
  readonly target: Target;
  readonly tenants: number;
  readonly rounds: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly failed: number;
  readonly sampled: number;
  readonly foreignRows: number;
  readonly emptyOrInvalid: number;
  readonly writes: number;
  readonly failedWrites: number;
  readonly cacheHits: number;
  readonly cacheMisses: number;
  /** Medians of the rounds: cores busy on average, and CPU per request (ms). */
  readonly serverCores: number;
  readonly serverCpuMsPerRequest: number;
  readonly postgresCores: number;
  readonly postgresCpuMsPerRequest: number;
}

export interface ListPageBenchmarkResult {
  readonly machine: { readonly cpus: number; readonly node: string; readonly postgres: string };
  readonly options: Omit<ListPageBenchmarkOptions, 'onProgress'>;
  readonly seedSeconds: number;
  readonly runs: readonly LoadResult[];
  readonly summaries: readonly Summary[];
  /** schemata ÷ floor with requests over all tenants. */
  readonly throughputRatio: number;
  readonly p99Ratio: number;
  /** schemata over all tenants ÷ schemata over the hot set, when measured. */
  readonly scaleRatio: number | undefined;
  readonly serverRssMb: number;
  /** The PostgreSQL backends of each server's pool right after its last round over all tenants. */
  readonly backends: { readonly schemata: BackendMemory; readonly floor: BackendMemory };
}

/** `node --import tsx`: one process per child, so its pid is the one whose memory we read. */
const NODE_TS = [process.execPath, '--import', 'tsx'] as const;
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/**
 * The standard list page, measured against the floor in the same run: its own
 * embedded Postgres and seed, the schemata server and the bare node:http + pg
 * floor as child processes with equal pools, and autocannon in a third
 * process. Rounds alternate (A B A B) so machine drift hits both alike.
 */
export async function runListPageBenchmark(base: Config, options: ListPageBenchmarkOptions): Promise<ListPageBenchmarkResult> {
  const say = options.onProgress ?? (() => undefined);
  // Not mkdtemp: its 0700 mode would keep the postgres OS user out of the cluster directory.
  const workDir = path.join(os.tmpdir(), `schemata-bench-${randomBytes(4).toString('hex')}`);
  await fs.mkdir(workDir, { recursive: true });
  // Durability off only speeds up the seed; the measured path only reads.
  const database = await openDatabase({ ...base, databaseUrl: undefined, databaseDirectUrl: undefined, dataDir: workDir, poolSize: 8 }, { unsafeFastWrites: true });
  const children: ChildProcess[] = [];
  try {
    const templates = await loadTemplates(base.templatesDir);
    await migrateControlPlane(database, templates.control);
    const seedStarted = Date.now();
    let lastReport = 0;
    const tenants = await seedBenchTenants(database, templates.tenant, {
      count: options.tenants,
      size: options.size,
      concurrency: 4,
      onProgress: (done, total) => {
        if (done === total || Date.now() - lastReport > 2000) {
          lastReport = Date.now();
          say(`seeded ${done}/${total} tenants`);
        }
      },
    });
    const seedSeconds = (Date.now() - seedStarted) / 1000;
    const version = (await database.pool.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;

    const tenantsFile = path.join(workDir, 'tenants.json');
    await fs.writeFile(tenantsFile, JSON.stringify(await withTokens(database, base, tenants)));
    // Request logging off (warn level) and the rate limit out of reach: the floor has neither.
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: database.url, PG_POOL_SIZE: String(options.poolSize), NODE_ENV: 'production', LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '100000000', RESPONSE_CACHE_TTL_MS: String(options.responseCacheTtlMs ?? 0), METRICS_PORT: '0', METRICS_TOKEN: '' };
    if (options.trustedDocuments) {
      const manifest = path.join(workDir, 'trusted-documents.json');
      await fs.writeFile(manifest, JSON.stringify({ [LIST_PAGE_HASH]: LIST_PAGE_QUERY }));
      Object.assign(env, { TRUSTED_DOCUMENTS_FILE: manifest, TRUSTED_DOCUMENTS_ONLY: 'true' });
    }
    const profile = options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : [];
    const named = (name: string) => ({ ...env, DATABASE_URL: withApplicationName(database.url, name) });
    const schemata = await startChild(path.join(PROJECT_ROOT, 'scripts/bench/run-schemata-server.ts'), [], named('bench-schemata'), children, profile);
    const floor = await startChild(path.join(PROJECT_ROOT, 'scripts/bench/run-floor-server.ts'), [tenantsFile], named('bench-floor'), children);
    const allTenants = JSON.parse(await fs.readFile(tenantsFile, 'utf8')) as BenchTenant[];
    const postgres = await postmasterPid(path.join(workDir, 'pg'));

    const targets: { target: Target; port: number; tenants: BenchTenant[] }[] = [
      { target: 'schemata', port: schemata.port, tenants: allTenants },
      { target: 'floor', port: floor.port, tenants: allTenants },
    ];
    if (options.hotTenants !== undefined) {
      const hot = allTenants.slice(0, options.hotTenants);
      targets.push({ target: 'schemata', port: schemata.port, tenants: hot }, { target: 'floor', port: floor.port, tenants: hot });
    }

    const load = async (t: (typeof targets)[number], seconds: number): Promise<LoadResult> => {
      const planFile = path.join(workDir, `plan-${t.target}-${t.tenants.length}.json`);
      await fs.writeFile(
        planFile,
        JSON.stringify({
          url: `http://127.0.0.1:${t.port}/graphql`,
          target: t.target,
          connections: options.connections,
          durationSeconds: seconds,
          tenants: t.tenants,
          sampleEvery: 25,
          writePercent: t.target === 'schemata' ? (options.writePercent ?? 0) : 0,
          trustedDocuments: options.trustedDocuments ?? false,
        }),
      );
      const before = t.target === 'schemata' ? await cacheLookups(schemata.metricsPort!) : undefined;
      const serverPid = (t.target === 'schemata' ? schemata : floor).child.pid!;
      const cpuBefore = { server: await processCpuMs(serverPid), postgres: await clusterCpuMs(postgres), at: Date.now() };
      const output = await runToEnd(NODE_TS[0], [...NODE_TS.slice(1), path.join(PROJECT_ROOT, 'scripts/bench/run-load.ts'), planFile]);
      // Read at once: the load process's start-up is in the window, and it uses neither server.
      const cpu = { serverCpuMs: (await processCpuMs(serverPid)) - cpuBefore.server, postgresCpuMs: (await clusterCpuMs(postgres)) - cpuBefore.postgres, wallMs: Date.now() - cpuBefore.at };
      const run = { ...(JSON.parse(output.trim().split('\n').at(-1)!) as LoadResult), ...cpu };
      if (!before) return run;
      const after = await cacheLookups(schemata.metricsPort!);
      return { ...run, cache: { hits: after.hits - before.hits, misses: after.misses - before.misses } };
    };

    for (const t of targets) {
      say(`warm-up: ${t.target} over ${t.tenants.length} tenants, ${options.warmupSeconds} s`);
      await load(t, options.warmupSeconds);
    }
    const runs: LoadResult[] = [];
    // Read right after each target's own round, while its pool is warm (an idle pool closes its connections).
    const lastBackends: Partial<Record<Target, BackendMemory>> = {};
    for (let round = 1; round <= options.rounds; round++) {
      for (const t of targets) {
        say(`round ${round}/${options.rounds}: ${t.target} over ${t.tenants.length} tenants, ${options.durationSeconds} s`);
        const run = await load(t, options.durationSeconds);
        if (t.tenants.length === allTenants.length) lastBackends[t.target] = await backendMemory(database.pool, `bench-${t.target}`);
        runs.push(run);
        say(`  ${run.requestsPerSecond.toFixed(0)} req/s, p50 ${run.p50Ms} ms, p99 ${run.p99Ms} ms`);
      }
    }
    const serverRssMb = await rssMb(schemata.child.pid!);
    const backends = { schemata: lastBackends.schemata!, floor: lastBackends.floor! };

    const summaries = targets.map((t) => {
      const mine = runs.filter((r) => r.target === t.target && r.tenants === t.tenants.length);
      return {
        target: t.target,
        tenants: t.tenants.length,
        rounds: mine.length,
        requestsPerSecond: median(mine.map((r) => r.requestsPerSecond)),
        p50Ms: median(mine.map((r) => r.p50Ms)),
        p99Ms: median(mine.map((r) => r.p99Ms)),
        failed: mine.reduce((sum, r) => sum + r.errors + r.timeouts + r.non2xx, 0),
        sampled: mine.reduce((sum, r) => sum + r.sampled, 0),
        foreignRows: mine.reduce((sum, r) => sum + r.foreignRows, 0),
        emptyOrInvalid: mine.reduce((sum, r) => sum + r.emptyOrInvalid, 0),
        writes: mine.reduce((sum, r) => sum + r.writes, 0),
        failedWrites: mine.reduce((sum, r) => sum + r.failedWrites, 0),
        cacheHits: mine.reduce((sum, r) => sum + (r.cache?.hits ?? 0), 0),
        cacheMisses: mine.reduce((sum, r) => sum + (r.cache?.misses ?? 0), 0),
        serverCores: median(mine.map((r) => r.serverCpuMs / r.wallMs)),
        serverCpuMsPerRequest: median(mine.map((r) => r.serverCpuMs / r.totalRequests)),
        postgresCores: median(mine.map((r) => r.postgresCpuMs / r.wallMs)),
        postgresCpuMsPerRequest: median(mine.map((r) => r.postgresCpuMs / r.totalRequests)),
      };
    });
    const find = (target: Target, count: number) => summaries.find((s) => s.target === target && s.tenants === count)!;
    const ours = find('schemata', allTenants.length);
    const theirs = find('floor', allTenants.length);
    return {
      machine: { cpus: os.cpus().length, node: process.version, postgres: version },
      options: { ...options, onProgress: undefined } as Omit<ListPageBenchmarkOptions, 'onProgress'>,
      seedSeconds,
      runs,
      summaries,
      throughputRatio: ours.requestsPerSecond / theirs.requestsPerSecond,
      p99Ratio: ours.p99Ms / theirs.p99Ms,
      scaleRatio: options.hotTenants === undefined ? undefined : ours.requestsPerSecond / find('schemata', options.hotTenants).requestsPerSecond,
      serverRssMb,
      backends,
    };
  } finally {
    await Promise.all(children.map((child) => new Promise((resolve) => (child.once('exit', resolve), child.kill('SIGTERM')))));
    await database.close();
    await fs.rm(workDir, { recursive: true, force: true });
  }
}

/** One tenant as the load generator sees it: a viewer's token for reads, a member's for writes. */
export interface BenchTenant {
  readonly slug: string;
  readonly schema: string;
  readonly token: string;
  readonly writerToken: string;
}

/** The server's response-cache counters, read from its metrics port. */
async function cacheLookups(port: number): Promise<{ hits: number; misses: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const count = (result: string) => Number(new RegExp(`^schemata_response_cache_total\\{result="${result}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { hits: count('hit'), misses: count('miss') };
}

export async function withTokens(database: Awaited<ReturnType<typeof openDatabase>>, config: Config, tenants: readonly Tenant[]) {
  return Promise.all(
    tenants.map(async (tenant) => {
      const auth = await findTenantAuth(database.control, tenant.id);
      const keys = { hmac: new TextEncoder().encode(auth!.hmac_secret), idp: undefined };
      const { token } = await issueAccessToken(keys, { subject: 'bench', role: 'viewer', tenantId: tenant.id }, config, 4 * 3600);
      const writer = await issueAccessToken(keys, { subject: 'bench-writer', role: 'member', tenantId: tenant.id }, config, 4 * 3600);
      return { slug: tenant.slug, schema: tenant.schema_name, token, writerToken: writer.token } satisfies BenchTenant;
    }),
  );
}

export async function startChild(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  children: ChildProcess[],
  nodeFlags: string[] = [],
  /** Open an IPC channel to the child (process.send), for what only it can read, such as its heap. */
  ipc = false,
): Promise<{ child: ChildProcess; port: number; metricsPort: number | undefined }> {
  const child = spawn(NODE_TS[0], [...nodeFlags, ...NODE_TS.slice(1), script, ...args], { env, cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'inherit', ...(ipc ? (['ipc'] as const) : [])] });
  children.push(child);
  const lines = createInterface({ input: child.stdout! });
  // "ready <port>", and the metrics port after it where the server has one.
  const [port, metricsPort] = await new Promise<[number, number | undefined]>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${path.basename(script)} exited with ${code} before it was ready`)));
    lines.on('line', (line) => {
      const match = /^ready (\d+)(?: (\d+))?$/.exec(line);
      if (match) resolve([Number(match[1]), match[2] === undefined ? undefined : Number(match[2])]);
    });
  });
  return { child, port, metricsPort };
}

function runToEnd(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(output) : reject(new Error(`load run exited with ${code}`))));
  });
}

export async function rssMb(pid: number): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}
