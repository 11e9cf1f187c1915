import { runWorstCaseBenchmark, WORST_CASE_ATTACKS, type WorstCaseAttack } from './bench/worst-case-benchmark.js';
import { parseArgsOrExit, parseCliArgs, wholeNumberArg } from '../src/cli/args.js';
import { UsageError } from '../src/cli/run-script.js';
import { loadConfig } from '../src/config.js';

const ATTACKS = Object.keys(WORST_CASE_ATTACKS) as WorstCaseAttack[];
const USAGE = `usage: npm run bench:worst -- [--duration 10] [--victims 4] [--attackers 3] [--pool 16] [--attack NAME]… [--json]
  --attack NAME  one of ${ATTACKS.join(', ')} (default: all, one phase each)`;

const { values } = parseCliArgs({
  options: {
    duration: { type: 'string', default: '10' },
    victims: { type: 'string', default: '4' },
    attackers: { type: 'string', default: '3' },
    pool: { type: 'string', default: '16' },
    attack: { type: 'string', multiple: true },
    json: { type: 'boolean', default: false },
  },
}, USAGE);
const whole = (name: 'duration' | 'victims' | 'attackers' | 'pool') => parseArgsOrExit(() => wholeNumberArg(name, values[name], { min: 1 })!);
const attacks = parseArgsOrExit(() => {
  const unknown = (values.attack ?? []).filter((name) => !ATTACKS.includes(name as WorstCaseAttack));
  if (unknown.length > 0) throw new UsageError(`--attack must be one of ${ATTACKS.join(', ')}, got "${unknown.join('", "')}"`);
  return (values.attack ?? ATTACKS) as WorstCaseAttack[];
});

const results = await runWorstCaseBenchmark(loadConfig(), {
  durationSeconds: whole('duration'),
  victimConnections: whole('victims'),
  attackConnections: whole('attackers'),
  poolSize: whole('pool'),
  attacks,
  onProgress: (message) => console.error(message),
});
if (values.json) {
  console.log(JSON.stringify(results, null, 2));
} else {
  const quiet = results.find((r) => r.attack === 'quiet')!;
  console.table(
    results.map((r) => ({
      phase: r.attack,
      'victim p50 ms': r.victim.p50Ms,
      'victim p95 ms': r.victim.p95Ms,
      'p95 ÷ quiet': (r.victim.p95Ms / quiet.victim.p95Ms).toFixed(2),
      'victim failed': r.victim.failed,
      'attacks done': r.attacker?.requests ?? '-',
      'attack p50 ms': r.attacker?.p50Ms ?? '-',
      'attack median bytes': r.attacker?.medianBytes ?? '-',
      'attack answers': r.attacker ? Object.entries(r.attacker.codes).map(([code, n]) => `${code} ${n}`).join(', ') : '-',
      'server RSS MB': r.serverRssMb,
    })),
  );
  console.log('target: victim p95 under any allowed attack within 2 × its quiet p95');
}
