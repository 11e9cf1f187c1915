import { runListPageBenchmark, type ListPageBenchmarkResult } from './bench/list-page-benchmark.js';
import { parseArgsOrExit, parseCliArgs, wholeNumberArg } from '../src/cli/args.js';
import { loadConfig } from '../src/config.js';

const USAGE = `usage: npm run bench -- [--tenants 100] [--deployments 1000] [--workflows 500] [--projects 10]
                       [--connections 64] [--duration 10] [--warmup 3] [--rounds 2] [--pool 16] [--hot N] [--json]
                       [--cache-ttl MS] [--writes PERCENT] [--trusted-documents]
  --hot N        also load only N of the tenants, to compare throughput at N with throughput over all (default 10 from 1,000 tenants up)
  --profile DIR  write a V8 CPU profile of the schemata server to DIR (node --cpu-prof)
  --cache-ttl MS the schemata server's response cache TTL (default 0, off, as the floor caches nothing); prints the hit rate
  --writes P     P percent of schemata requests create a project (as a member), invalidating that tenant's cached reads (default 0)
  --trusted-documents  schemata serves trusted documents only (TRUSTED_DOCUMENTS_ONLY) and the load sends the list page's hash instead of its text`;

const { values } = parseCliArgs({
  options: {
    tenants: { type: 'string', default: '100' },
    deployments: { type: 'string', default: '1000' },
    workflows: { type: 'string', default: '500' },
    projects: { type: 'string', default: '10' },
    connections: { type: 'string', default: '64' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '2' },
    pool: { type: 'string', default: '16' },
    hot: { type: 'string' },
    profile: { type: 'string' },
    'cache-ttl': { type: 'string', default: '0' },
    writes: { type: 'string', default: '0' },
    'trusted-documents': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
}, USAGE);
type NumericOption = 'tenants' | 'deployments' | 'workflows' | 'projects' | 'connections' | 'duration' | 'warmup' | 'rounds' | 'pool' | 'hot';
const whole = (name: NumericOption, min: number): number => parseArgsOrExit(() => wholeNumberArg(name, values[name], { min })!);
const tenants = whole('tenants', 1);
const options = {
  tenants,
  size: { deployments: whole('deployments', 1), workflows: whole('workflows', 0), projects: whole('projects', 1) },
  connections: whole('connections', 1),
  durationSeconds: whole('duration', 1),
  warmupSeconds: whole('warmup', 1),
  rounds: whole('rounds', 1),
  poolSize: whole('pool', 1),
  hotTenants: values.hot !== undefined ? Math.min(whole('hot', 1), tenants) : tenants >= 1000 ? 10 : undefined,
  profileDir: values.profile,
  responseCacheTtlMs: parseArgsOrExit(() => wholeNumberArg('cache-ttl', values['cache-ttl'], { min: 0, max: 60_000 })!),
  writePercent: parseArgsOrExit(() => wholeNumberArg('writes', values.writes, { min: 0, max: 100 })!),
  trustedDocuments: values['trusted-documents'],
  onProgress: (message: string) => console.error(message),
};

const result = await runListPageBenchmark(loadConfig(), options);
if (values.json) console.log(JSON.stringify(result, null, 2));
else print(result);

function ours(r: ListPageBenchmarkResult) {
  return r.summaries.find((s) => s.target === 'schemata' && s.tenants === r.options.tenants)!;
}

function print(r: ListPageBenchmarkResult): void {
  const o = r.options;
  console.log(
    `\nmachine: ${r.machine.cpus} cores, node ${r.machine.node}, PostgreSQL ${r.machine.postgres}; ${o.tenants} tenants × ${o.size.deployments} deployments, ${o.size.workflows} workflows, ${o.size.projects} projects (seeded in ${r.seedSeconds.toFixed(0)} s)`,
  );
  console.log(
    `load: ${o.connections} connections, ${o.rounds} × ${o.durationSeconds} s per target (alternating), pool ${o.poolSize} per server; medians of rounds` +
      `${o.trustedDocuments ? '; schemata serves trusted documents only, the list page sent by its hash' : ''}\n`,
  );
  console.table(
    r.summaries.map((s) => ({
      target: s.target,
      tenants: s.tenants,
      'req/s': Math.round(s.requestsPerSecond),
      'p50 ms': s.p50Ms,
      'p99 ms': s.p99Ms,
      failed: s.failed,
      'rows checked': `${s.sampled} responses`,
      'foreign rows': s.foreignRows,
      'server cores': s.serverCores.toFixed(2),
      'server ms/req': s.serverCpuMsPerRequest.toFixed(2),
      'pg cores': s.postgresCores.toFixed(2),
      'pg ms/req': s.postgresCpuMsPerRequest.toFixed(2),
    })),
  );
  console.log(`ratio: schemata/floor throughput ${r.throughputRatio.toFixed(2)} × (target ≥ 0.5), p99 ${r.p99Ratio.toFixed(2)} × the floor's (target ≤ 1.5); schemata server CPU ${ours(r).serverCpuMsPerRequest.toFixed(2)} ms per request (target ≤ 1.0)`);
  const cached = r.summaries.find((s) => s.target === 'schemata' && s.tenants === o.tenants)!;
  if (o.responseCacheTtlMs) {
    const lookups = cached.cacheHits + cached.cacheMisses;
    console.log(
      `response cache (TTL ${o.responseCacheTtlMs} ms): hit rate ${lookups ? ((100 * cached.cacheHits) / lookups).toFixed(1) : '-'} % (${cached.cacheHits} hits, ${cached.cacheMisses} misses) over the measured schemata rounds; ${cached.writes} writes (${o.writePercent ?? 0} %), ${cached.failedWrites} failed`,
    );
  }
  const b = (m: ListPageBenchmarkResult['backends']['floor']) =>
    `${m.backends} backends, ${m.meanPrivateMb} MB private each on average, ${m.maxPrivateMb} MB the largest${m.unreadable ? ` (${m.unreadable} unreadable in /proc, not counted)` : ''}`;
  console.log(`PostgreSQL backends after each one's last round: schemata ${b(r.backends.schemata)}; floor ${b(r.backends.floor)}`);
  if (r.scaleRatio !== undefined) {
    console.log(`scale: throughput over ${o.tenants} tenants ÷ over ${o.hotTenants} = ${r.scaleRatio.toFixed(2)} (target ≥ 0.9); server RSS ${r.serverRssMb} MB`);
  } else {
    console.log(`server RSS ${r.serverRssMb} MB`);
  }
}
