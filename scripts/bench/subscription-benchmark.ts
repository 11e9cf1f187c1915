import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { encodeGlobalID } from '@pothos/plugin-relay';
import pLimit from 'p-limit';
import { issueAccessToken } from '../../src/auth/access-token.js';
import { findTenantAuth } from '../../src/auth/tenant-auth.repository.js';
import { PROJECT_ROOT, type Config } from '../../src/config.js';
import { openDatabase, type Database } from '../../src/db/database.js';
import { migrateControlPlane } from '../../src/migrations/migrate-control.js';
import { loadTemplates } from '../../src/migrations/template.js';
import { seedBenchTenants } from './bench-tenants.js';
import { rssMb, startChild } from './list-page-benchmark.js';
import { clusterCpuMs, machineBusyCpuMs, postmasterPid, processCpuMs } from './process-cpu.js';
import { burstUpdatesPerTenant, createIn, prepareTenant, runBurst, startBuilding, WARM_UP_ROUNDS, type MutatedTenant } from './subscription-mutations.js';
import { FILTER_KINDS, filterVariables, now, type PlannedSubscriber, type SubscriberCommand, type SubscriberPlan } from './subscription-plan.js';
import { memory, openFilesLimit, reply, settle, sleep, type MemorySample } from './subscription-children.js';
import { analyseDeliveries, latencyStats, type DeliveryResult, type LatencyStats, type SubscriberInfo } from './subscription-results.js';

export interface SubscriptionBenchmarkOptions {
  readonly tenants: number;
  /** Spread evenly: subscriber i belongs to tenant i mod tenants. */
  readonly subscribers: number;
  /** Mutations a second, spread over the tenants in turn. */
  readonly rate: number;
  readonly seconds: number;
  /** Percent of each tenant's subscribers that use SSE; the rest use graphql-ws. */
  readonly ssePercent: number;
  /** The server's PG_POOL_SIZE. */
  readonly poolSize: number;
  /** The longest wait for the burst's events after its last commit (s); it stops sooner once nothing arrives for 10 s. */
  readonly drainSeconds: number;
  readonly onProgress?: (message: string) => void;
}

export interface SubscriptionBenchmarkResult {
  readonly machine: { readonly cpus: number; readonly node: string; readonly postgres: string; readonly openFilesLimit: string };
  readonly options: Omit<SubscriptionBenchmarkOptions, 'onProgress'>;
  readonly provisionSeconds: number;
  readonly subscriptions: {
    readonly planned: number;
    readonly sse: number;
    readonly opened: number;
    readonly refused: Readonly<Record<string, number>>;
    readonly openSeconds: number;
    readonly warmUpSeconds: number;
    /** Open, not ended and heard their warm-up event before the burst: the subscribers the expected count is over. */
    readonly counted: number;
  };
  readonly burst: { readonly mutations: number; readonly committed: number; readonly failures: readonly string[]; readonly commitLag: LatencyStats };
  readonly deliveries: DeliveryResult;
  /** Streams the server ended while opening and warming up (not counted), by code. */
  readonly endedBeforeBurst: Readonly<Record<string, number>>;
  /** Streams the server ended during the burst and the wait after it, by code. */
  readonly endedDuringRun: Readonly<Record<string, number>>;
  readonly memory: {
    readonly beforeSubscribers: MemorySample;
    readonly withSubscribers: MemorySample;
    readonly afterBurst: MemorySample;
    /** The highest RSS read (every 250 ms) from the burst's start to the end of the wait for its events. */
    readonly burstPeakRssMb: number;
    /** VmHWM: the server's highest RSS over its life. */
    readonly peakRssMb: number;
    readonly perSubscriptionKb: { readonly rss: number; readonly heap: number };
    readonly subscriberProcessRssMb: number;
  };
  /**
   * Cores busy on average from the burst's start to the end of the wait for
   * its events: the server, PostgreSQL, the subscriber process, and the whole
   * machine (this process and whatever else runs on it included).
   */
  readonly cpu: { readonly serverCores: number; readonly postgresCores: number; readonly subscriberCores: number; readonly machineCores: number; readonly windowSeconds: number };
}

const NODE_TS = [process.execPath, '--import', 'tsx'] as const;

/**
 * Many subscribers, a burst of mutations: its own embedded PostgreSQL,
 * tenants provisioned by schemata, the real server in a child process (its
 * memory its own), every subscriber in a second child, and the mutations
 * committed here through the same service functions as the GraphQL mutations.
 */
export async function runSubscriptionBenchmark(base: Config, options: SubscriptionBenchmarkOptions): Promise<SubscriptionBenchmarkResult> {
  const say = options.onProgress ?? (() => undefined);
  // Not mkdtemp: its 0700 mode would keep the postgres OS user out of the cluster directory.
  const workDir = path.join(os.tmpdir(), `schemata-bench-${randomBytes(4).toString('hex')}`);
  await fs.mkdir(workDir, { recursive: true });
  // Default durability: the measured path commits.
  const database = await openDatabase({ ...base, databaseUrl: undefined, databaseDirectUrl: undefined, dataDir: workDir, poolSize: 8 });
  const children: ChildProcess[] = [];
  try {
    const templates = await loadTemplates(base.templatesDir);
    await migrateControlPlane(database, templates.control);
    const provisionStarted = now();
    let lastReport = 0;
    const seeded = await seedBenchTenants(database, templates.tenant, {
      count: options.tenants,
      size: { projects: 2, deployments: 0, workflows: 0 },
      concurrency: 4,
      // The server's capacity is measured, not a plan's: basic allows 20 subscriptions a tenant (control migration 0006).
      plan: 'enterprise',
      onProgress: (done, total) => {
        if (done === total || Date.now() - lastReport > 2000) {
          lastReport = Date.now();
          say(`provisioned ${done}/${total} tenants`);
        }
      },
    });
    const pendingCount = WARM_UP_ROUNDS + burstUpdatesPerTenant(options.rate * options.seconds, options.tenants);
    const preparing = pLimit(4);
    const tenants = await Promise.all(seeded.map((tenant) => preparing(() => prepareTenant(database, tenant, pendingCount))));
    const provisionSeconds = (now() - provisionStarted) / 1000;
    const version = (await database.pool.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;

    const env = { ...process.env, DATABASE_URL: database.url, PG_POOL_SIZE: String(options.poolSize), NODE_ENV: 'production', LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '100000000', METRICS_PORT: '0', METRICS_TOKEN: '' };
    const server = await startChild(path.join(PROJECT_ROOT, 'scripts/bench/run-schemata-server.ts'), [], env, children, ['--expose-gc'], true);
    const serverPid = server.child.pid!;
    const beforeSubscribers = await memory(server.child);
    say(`server up, RSS ${beforeSubscribers.rssMb} MB; opening ${options.subscribers} subscriptions`);

    const planned = await planSubscribers(database, base, tenants, options);
    const planFile = path.join(workDir, 'subscribers.json');
    await fs.writeFile(planFile, JSON.stringify({ origin: `http://127.0.0.1:${server.port}`, openConcurrency: 50, subscribers: planned } satisfies SubscriberPlan));
    const subscriber = spawn(NODE_TS[0], [...NODE_TS.slice(1), path.join(PROJECT_ROOT, 'scripts/bench/run-subscribers.ts'), planFile], { cwd: PROJECT_ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(subscriber);
    const opened = await reply(subscriber, undefined, 'opened');
    const withSubscribers = await memory(server.child);
    say(`${opened.opened} subscriptions open in ${(opened.openMs / 1000).toFixed(1)} s (refused: ${JSON.stringify(opened.refused)}); server RSS ${withSubscribers.rssMb} MB`);

    // Until a subscriber has heard an event its stream may not be registered yet: graphql-ws acknowledges the connection, not the subscription.
    const warmUpStarted = now();
    const warmUpIds = new Set<string>();
    const count = () => reply(subscriber, { type: 'count' }, 'count');
    const steps = [
      (t: MutatedTenant, round: number) => createIn(database, t, 0, 'production', `warm-up/${round}/a`),
      (t: MutatedTenant, round: number) => createIn(database, t, 1, 'staging', `warm-up/${round}/b`),
      (t: MutatedTenant, round: number) => startBuilding(database, t, round),
    ];
    let state = await count();
    for (let round = 0; round < WARM_UP_ROUNDS && state.silent.length > 0; round++) {
      const silentTenants = [...new Set(state.silent.map((i) => i % options.tenants))];
      say(`warm-up round ${round + 1}: ${state.silent.length} subscribers have heard nothing yet, in ${silentTenants.length} tenants`);
      // One change per tenant at a time: each becomes one event load per subscriber of the tenant.
      for (const step of steps) {
        const limit = pLimit(8);
        await Promise.all(silentTenants.map((i) => limit(async () => warmUpIds.add((await step(tenants[i]!, round)).id))));
        state = await settle(count);
      }
    }
    const warmUpSeconds = (now() - warmUpStarted) / 1000;
    const excluded = new Set([...state.silent, ...state.ended]);
    const subscribers: SubscriberInfo[] = planned.map((s, i) => ({ tenant: i % options.tenants, kind: kindOf(i, options.tenants), transport: s.transport, counted: !excluded.has(i) }));
    const counted = subscribers.filter((s) => s.counted).length;
    const endedBefore = new Set(state.ended);
    subscriber.send({ type: 'mark-warm-up', ids: [...warmUpIds] } satisfies SubscriberCommand);
    say(`warm-up done in ${warmUpSeconds.toFixed(1)} s: ${counted} subscribers counted; burst of ${options.rate} mutations/s for ${options.seconds} s`);

    const postgres = await postmasterPid(path.join(workDir, 'pg'));
    const cpuNow = async () => ({ server: await processCpuMs(serverPid), postgres: await clusterCpuMs(postgres), subscribers: await processCpuMs(subscriber.pid!), machine: await machineBusyCpuMs(), at: now() });
    const cpuBefore = await cpuNow();
    let burstPeakRssMb = 0;
    const sampler = setInterval(() => void rssMb(serverPid).then((mb) => (burstPeakRssMb = Math.max(burstPeakRssMb, mb))), 250);
    const burst = await runBurst(database, tenants, { rate: options.rate, seconds: options.seconds, onProgress: say });
    const expected = analyseDeliveries({ subscribers, hosts: [], commits: burst.commits, warmUpIds, events: [] }).expected;
    say(`burst committed ${burst.commits.length} mutations (${burst.failures.length} failed); waiting for ${expected} events`);
    const drainStarted = now();
    let last = { afterWarmUp: -1, at: now() };
    for (let polls = 1; ; polls++) {
      await sleep(500);
      const { afterWarmUp } = await count();
      if (afterWarmUp !== last.afterWarmUp) last = { afterWarmUp, at: now() };
      if (afterWarmUp >= expected || now() - last.at > 10_000 || now() - drainStarted > options.drainSeconds * 1000) break;
      if (polls % 10 === 0) say(`  ${afterWarmUp}/${expected} events received`);
    }
    clearInterval(sampler);
    const cpuAfter = await cpuNow();
    const cores = (key: Exclude<keyof typeof cpuAfter, 'at'>) => (cpuAfter[key] - cpuBefore[key]) / (cpuAfter.at - cpuBefore.at);
    const afterBurst = await memory(server.child);
    // The kernel updates VmHWM lazily: a sample may have seen more.
    const peakRssMb = Math.max(burstPeakRssMb, Math.round(Number(/VmHWM:\s+(\d+)/.exec(await fs.readFile(`/proc/${serverPid}/status`, 'utf8'))?.[1] ?? 0) / 1024));

    const report = await reply(subscriber, { type: 'report' }, 'report');
    await reply(subscriber, { type: 'close' }, 'closed');
    const endedBeforeBurst: Record<string, number> = {};
    const endedDuringRun: Record<string, number> = {};
    for (const [i, reason] of report.ends) {
      const tally = endedBefore.has(i) ? endedBeforeBurst : endedDuringRun;
      tally[reason] = (tally[reason] ?? 0) + 1;
    }
    const deliveries = analyseDeliveries({ subscribers, hosts: tenants.map((t) => t.host), commits: burst.commits, warmUpIds, events: report.events });
    const perKb = (after: number, before: number) => Math.round(((after - before) * 1024) / Math.max(1, opened.opened));
    return {
      machine: { cpus: os.cpus().length, node: process.version, postgres: version, openFilesLimit: await openFilesLimit() },
      options: { ...options, onProgress: undefined } as Omit<SubscriptionBenchmarkOptions, 'onProgress'>,
      provisionSeconds,
      subscriptions: { planned: planned.length, sse: planned.filter((s) => s.transport === 'sse').length, opened: opened.opened, refused: opened.refused, openSeconds: opened.openMs / 1000, warmUpSeconds, counted },
      burst: { mutations: options.rate * options.seconds, committed: burst.commits.length, failures: burst.failures.slice(0, 5), commitLag: latencyStats(burst.commits.map((c) => c.committedAt - c.scheduledAt)) },
      deliveries,
      endedBeforeBurst,
      endedDuringRun,
      memory: {
        beforeSubscribers,
        withSubscribers,
        afterBurst,
        burstPeakRssMb,
        peakRssMb,
        perSubscriptionKb: { rss: perKb(withSubscribers.rssMb, beforeSubscribers.rssMb), heap: perKb(withSubscribers.heapUsedMb, beforeSubscribers.heapUsedMb) },
        subscriberProcessRssMb: report.rssMb,
      },
      cpu: { serverCores: cores('server'), postgresCores: cores('postgres'), subscriberCores: cores('subscribers'), machineCores: cores('machine'), windowSeconds: (cpuAfter.at - cpuBefore.at) / 1000 },
    };
  } finally {
    await Promise.all(children.filter((c) => c.exitCode === null && c.signalCode === null).map((child) => new Promise((resolve) => (child.once('exit', resolve), child.kill('SIGTERM')))));
    await database.close();
    await fs.rm(workDir, { recursive: true, force: true });
  }
}

/** Filters go round within a tenant, so every tenant has every kind. */
const kindOf = (i: number, tenants: number) => Math.floor(i / tenants) % FILTER_KINDS.length;

/** Each subscriber with a viewer token of its own, SSE for `ssePercent` of each tenant's, spread through its filter kinds. */
async function planSubscribers(database: Database, config: Config, tenants: readonly MutatedTenant[], options: SubscriptionBenchmarkOptions): Promise<PlannedSubscriber[]> {
  const keys = await Promise.all(tenants.map(async (t) => ({ hmac: new TextEncoder().encode((await findTenantAuth(database.control, t.tenant.id))!.hmac_secret), idp: undefined })));
  return Promise.all(
    Array.from({ length: options.subscribers }, async (_, i) => {
      const t = tenants[i % tenants.length]!;
      const j = Math.floor(i / tenants.length);
      const sse = Math.floor(((j + 1) * options.ssePercent) / 100) > Math.floor((j * options.ssePercent) / 100);
      const claims = { subject: `bench-subscriber-${i}`, role: 'viewer' as const, tenantId: t.tenant.id };
      const { token } = await issueAccessToken(keys[i % tenants.length]!, claims, config, 4 * 3600);
      const projectIds = t.projects.map((id) => encodeGlobalID('Project', id));
      return { slug: t.tenant.slug, token, transport: sse ? 'sse' : 'ws', variables: filterVariables(kindOf(i, tenants.length), projectIds) } satisfies PlannedSubscriber;
    }),
  );
}

