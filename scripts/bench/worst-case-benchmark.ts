import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { PROJECT_ROOT, type Config } from '../../src/config.js';
import { changeTenantPlan } from '../../src/control/tenants/tenant-lifecycle.service.js';
import { openDatabase } from '../../src/db/database.js';
import { migrateControlPlane } from '../../src/migrations/migrate-control.js';
import { loadTemplates } from '../../src/migrations/template.js';
import { withTenantTransaction } from '../../src/tenancy/tenant-transaction.js';
import { seedBenchTenants } from './bench-tenants.js';
import { rssMb, startChild, withTokens, type BenchTenant } from './list-page-benchmark.js';
import { LIST_PAGE_QUERY } from './list-page-query.js';

/**
 * The heaviest requests a viewer can send (request bodies), each an attack of
 * its own. Page sizes come from variables, as in the security report: a limit
 * that reads only literal sizes lets them all through.
 */
export const WORST_CASE_ATTACKS = {
  /** The report's document: 14 aliased nested lists of 100 under each of 100 rows. */
  'nested-aliases': nestedAliases(100, 100),
  /** The same shape at the most the cost limit allows: 40 rows with 14 nested lists of 1. */
  'nested-aliases-allowed': nestedAliases(40, 1),
  /** 15 aliased pages of 100 workflows, each with a 60 KB config: heavy in bytes. */
  'wide-json': wideJson(15),
  /** The most of those the cost limit allows: one page of 100 (6 MB). */
  'wide-json-allowed': wideJson(1),
} as const;

export type WorstCaseAttack = keyof typeof WORST_CASE_ATTACKS;

function nestedAliases(parents: number, n: number): string {
  const nested = Array.from({ length: 14 }, (_, i) => `a${i}: deployments(first: $n) { edges { node { id url createdBy { email } } } }`).join(' ');
  return JSON.stringify({ query: `query($p: Int, $n: Int) { deployments(first: $p) { edges { node { project { ${nested} } } } } }`, variables: { p: parents, n } });
}

function wideJson(aliases: number): string {
  const pages = Array.from({ length: aliases }, (_, i) => `w${i}: workflows(first: $n) { edges { node { id config } } }`).join(' ');
  return JSON.stringify({ query: `query($n: Int) { ${pages} }`, variables: { n: 100 } });
}

export interface WorstCaseOptions {
  readonly durationSeconds: number;
  /** Concurrent requests of the victim tenant's list page. */
  readonly victimConnections: number;
  /** Concurrent attack requests, all from one tenant. */
  readonly attackConnections: number;
  readonly attacks: readonly WorstCaseAttack[];
  readonly poolSize: number;
  readonly onProgress?: (message: string) => void;
}

export interface LatencySummary {
  readonly requests: number;
  readonly failed: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
}

export interface AttackResult {
  readonly attack: WorstCaseAttack | 'quiet';
  readonly victim: LatencySummary;
  /** The attacker's own requests during the phase. */
  readonly attacker?: LatencySummary & { readonly medianBytes: number; readonly maxBytes: number; readonly codes: Readonly<Record<string, number>> };
  readonly serverRssMb: number;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

/**
 * One tenant's worst allowed requests against another tenant's latency: a
 * quiet phase of the victim's list page alone, then one phase per attack
 * with the attacker's requests running alongside, on the real server in a
 * child process over its own embedded Postgres.
 */
export async function runWorstCaseBenchmark(base: Config, options: WorstCaseOptions): Promise<AttackResult[]> {
  const say = options.onProgress ?? (() => undefined);
  const workDir = path.join(os.tmpdir(), `schemata-worst-${randomBytes(4).toString('hex')}`);
  await fs.mkdir(workDir, { recursive: true });
  const database = await openDatabase({ ...base, databaseUrl: undefined, databaseDirectUrl: undefined, dataDir: workDir, poolSize: 8 }, { unsafeFastWrites: true });
  const children: Parameters<typeof startChild>[3] = [];
  try {
    const templates = await loadTemplates(base.templatesDir);
    await migrateControlPlane(database, templates.control);
    say('seeding 2 tenants (10 projects, 1,000 deployments, 500 workflows each; the attacker\'s workflows carry 60 KB configs)');
    const tenants = await seedBenchTenants(database, templates.tenant, { count: 2, size: { projects: 10, deployments: 1000, workflows: 500 }, concurrency: 2 });
    await withTenantTransaction(database, tenants[0]!, {}, (db) => sql`UPDATE workflows SET config = jsonb_build_object('blob', repeat('x', 60000))`.execute(db));
    // Both on the plan with every feature, so no attack is refused for its plan rather than its size.
    for (const tenant of tenants) await changeTenantPlan(database, tenant.slug, 'enterprise');
    const [attacker, victim] = (await withTokens(database, base, tenants)) as [BenchTenant, BenchTenant];
    const env = { ...process.env, DATABASE_URL: database.url, PG_POOL_SIZE: String(options.poolSize), NODE_ENV: 'production', LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '100000000', RESPONSE_CACHE_TTL_MS: '0' };
    const server = await startChild(path.join(PROJECT_ROOT, 'scripts/bench/run-schemata-server.ts'), [], env, children);
    const url = `http://127.0.0.1:${server.port}/graphql`;
    const post = (tenant: BenchTenant, body: string) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-tenant-id': tenant.slug, authorization: `Bearer ${tenant.token}` }, body });
    const victimBody = JSON.stringify({ query: LIST_PAGE_QUERY });

    const phase = async (attack: WorstCaseAttack | 'quiet'): Promise<AttackResult> => {
      const until = performance.now() + options.durationSeconds * 1000;
      const victimTimes: number[] = [];
      let victimFailed = 0;
      const attackTimes: number[] = [];
      const attackBytes: number[] = [];
      const codes: Record<string, number> = {};
      const loop = async (send: () => Promise<void>) => {
        while (performance.now() < until) await send();
      };
      const victimLoop = () =>
        loop(async () => {
          const started = performance.now();
          const response = await post(victim, victimBody);
          const text = await response.text();
          victimTimes.push(performance.now() - started);
          if (response.status !== 200 || text.includes('"errors"')) victimFailed++;
        });
      const attackBody = attack === 'quiet' ? '' : WORST_CASE_ATTACKS[attack];
      const attackLoop = () =>
        loop(async () => {
          const started = performance.now();
          let code = 'NETWORK_ERROR';
          let bytes = 0;
          try {
            const response = await post(attacker, attackBody);
            const text = await response.text();
            code = codeIn(text, response.status);
            bytes = Buffer.byteLength(text);
          } catch {
            // counted as NETWORK_ERROR
          }
          codes[code] = (codes[code] ?? 0) + 1;
          attackTimes.push(performance.now() - started);
          attackBytes.push(bytes);
        });
      await Promise.all([
        ...Array.from({ length: options.victimConnections }, victimLoop),
        ...(attack === 'quiet' ? [] : Array.from({ length: options.attackConnections }, attackLoop)),
      ]);
      const summary = (times: number[], failed: number): LatencySummary => {
        const sorted = [...times].sort((a, b) => a - b);
        return { requests: times.length, failed, p50Ms: round(percentile(sorted, 50)), p95Ms: round(percentile(sorted, 95)), p99Ms: round(percentile(sorted, 99)) };
      };
      const bytesSorted = [...attackBytes].sort((a, b) => a - b);
      return {
        attack,
        victim: summary(victimTimes, victimFailed),
        ...(attack !== 'quiet' && {
          attacker: { ...summary(attackTimes, 0), medianBytes: percentile(bytesSorted, 50), maxBytes: bytesSorted.at(-1) ?? 0, codes },
        }),
        serverRssMb: await rssMb(server.child.pid!),
      };
    };

    say('warm-up: victim alone, 3 s');
    await phase('quiet');
    const results: AttackResult[] = [];
    for (const attack of ['quiet', ...options.attacks] as const) {
      say(`${attack === 'quiet' ? 'quiet: victim alone' : `attack ${attack}: victim + ${options.attackConnections} attacker connections`}, ${options.durationSeconds} s`);
      const result = await phase(attack);
      results.push(result);
      say(`  victim p95 ${result.victim.p95Ms} ms (${result.victim.requests} requests)${result.attacker ? `; attacker ${result.attacker.requests} requests, median ${result.attacker.medianBytes} B, ${JSON.stringify(result.attacker.codes)}` : ''}`);
    }
    return results;
  } finally {
    await Promise.all(children.map((child) => new Promise((resolve) => (child.once('exit', resolve), child.kill('SIGTERM')))));
    await database.close();
    await fs.rm(workDir, { recursive: true, force: true });
  }
}

/** The first error code of a response, or OK. */
function codeIn(text: string, status: number): string {
  return /"code":"([A-Z_]+)"/.exec(text)?.[1] ?? (status === 200 ? 'OK' : `HTTP_${status}`);
}

const round = (ms: number) => Math.round(ms * 10) / 10;
