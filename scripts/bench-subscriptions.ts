import { runSubscriptionBenchmark, type SubscriptionBenchmarkResult } from './bench/subscription-benchmark.js';
import { FILTER_KINDS } from './bench/subscription-plan.js';
import { parseArgsOrExit, parseCliArgs, wholeNumberArg } from '../src/cli/args.js';
import { loadConfig } from '../src/config.js';

const USAGE = `usage: npm run bench:subscriptions -- [--tenants 100] [--subscribers 5000] [--rate 100] [--seconds 10]
                                     [--sse 10] [--pool 16] [--drain 120] [--json]
  --subscribers N  spread evenly over the tenants (the server holds at most 200 a tenant and 5,000 in all)
  --rate R         mutations a second during the burst, spread over the tenants in turn
  --seconds S      how long the burst lasts
  --sse P          percent of each tenant's subscribers on SSE; the rest on graphql-ws (default 10)
  --pool N         the server's PG_POOL_SIZE (default 16)
  --drain S        the longest wait for the burst's events after its last commit (default 120)`;

const { values } = parseCliArgs({
  options: {
    tenants: { type: 'string', default: '100' },
    subscribers: { type: 'string', default: '5000' },
    rate: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '10' },
    sse: { type: 'string', default: '10' },
    pool: { type: 'string', default: '16' },
    drain: { type: 'string', default: '120' },
    json: { type: 'boolean', default: false },
  },
}, USAGE);
type NumericOption = 'tenants' | 'subscribers' | 'rate' | 'seconds' | 'sse' | 'pool' | 'drain';
const whole = (name: NumericOption, min: number, max?: number): number => parseArgsOrExit(() => wholeNumberArg(name, values[name], { min, max })!);

const result = await runSubscriptionBenchmark(loadConfig(), {
  tenants: whole('tenants', 1),
  subscribers: whole('subscribers', 1),
  rate: whole('rate', 1),
  seconds: whole('seconds', 1),
  ssePercent: whole('sse', 0, 100),
  poolSize: whole('pool', 1),
  drainSeconds: whole('drain', 1),
  onProgress: (message) => console.error(message),
});
if (values.json) console.log(JSON.stringify(result, null, 2));
else print(result);

function print(r: SubscriptionBenchmarkResult): void {
  const { options: o, subscriptions: s, burst: b, deliveries: d, memory: m } = r;
  const refused = Object.entries(s.refused).map(([code, n]) => `${n} ${code}`).join(', ') || 'none';
  const tally = (ends: Readonly<Record<string, number>>) => Object.entries(ends).map(([code, n]) => `${n} ${code}`).join(', ') || 'none';
  console.log(`\nmachine: ${r.machine.cpus} cores, node ${r.machine.node}, PostgreSQL ${r.machine.postgres}; open files ${r.machine.openFilesLimit}`);
  console.log(`${o.tenants} tenant${o.tenants === 1 ? '' : 's'} (provisioned in ${r.provisionSeconds.toFixed(0)} s); server pool ${o.poolSize}`);
  console.log(
    `subscriptions: ${s.planned} planned (${s.planned - s.sse} graphql-ws, ${s.sse} SSE; ${FILTER_KINDS.length} filters in turn), ${s.opened} opened in ${s.openSeconds.toFixed(1)} s, refused: ${refused}; ${s.counted} counted after a ${s.warmUpSeconds.toFixed(1)} s warm-up`,
  );
  console.log(`burst: ${o.rate} mutations/s for ${o.seconds} s, ${b.committed}/${b.mutations} committed${b.failures.length ? ` (failed: ${b.failures.join('; ')})` : ''}; commit − schedule p50 ${b.commitLag.p50Ms} ms, p99 ${b.commitLag.p99Ms} ms\n`);
  console.table([{ expected: d.expected, delivered: d.delivered, missing: d.missing, duplicates: d.duplicates, 'filtered out but sent': d.unexpected, 'other tenant': d.foreign, unknown: d.unknown }]);
  console.table(
    (['all', 'ws', 'sse'] as const).map((transport) => {
      const l = transport === 'all' ? d.latency : d.latencyByTransport[transport];
      return { 'commit → delivery': transport === 'all' ? 'all' : transport === 'ws' ? 'graphql-ws' : 'SSE', events: l.count, 'min ms': l.minMs, 'p50 ms': l.p50Ms, 'p90 ms': l.p90Ms, 'p99 ms': l.p99Ms, 'max ms': l.maxMs, 'mean ms': l.meanMs };
    }),
  );
  console.table(
    ([['before subscribers', m.beforeSubscribers], [`${s.opened} open`, m.withSubscribers], ['after the burst', m.afterBurst]] as const).map(([phase, sample]) => ({
      'server memory': phase,
      'RSS MB': sample.rssMb,
      'heap MB (after GC)': sample.heapUsedMb,
      'external MB': sample.externalMb,
    })),
  );
  const delta = (mb: number) => `${mb >= 0 ? '+' : '−'}${Math.abs(mb)} MB`;
  console.log(
    `opening ${s.opened}: server RSS ${delta(m.withSubscribers.rssMb - m.beforeSubscribers.rssMb)}, heap ${delta(m.withSubscribers.heapUsedMb - m.beforeSubscribers.heapUsedMb)} (${m.perSubscriptionKb.heap} KB heap per subscription); server RSS peaked at ${m.burstPeakRssMb} MB during the burst (${m.peakRssMb} MB over its life); subscriber process RSS ${m.subscriberProcessRssMb} MB`,
  );
  console.log(`last event ${d.lastDeliveryAfterLastCommitMs} ms after the last commit; CPU over ${r.cpu.windowSeconds.toFixed(1)} s from the burst's start: server ${r.cpu.serverCores.toFixed(2)}, PostgreSQL ${r.cpu.postgresCores.toFixed(2)}, subscribers ${r.cpu.subscriberCores.toFixed(2)}, whole machine ${r.cpu.machineCores.toFixed(2)} of ${r.machine.cpus} cores`);
  console.log(`streams the server ended: ${tally(r.endedBeforeBurst)} before the burst (opening, warm-up), ${tally(r.endedDuringRun)} during it and the wait after`);
}
