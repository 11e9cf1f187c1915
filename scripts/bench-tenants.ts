import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runFleetBenchmark } from './bench/fleet-benchmark.js';
import { createProgress } from '../src/cli/progress.js';
import { parseArgsOrExit, parseCliArgs, wholeNumberArg } from '../src/cli/args.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';
import { loadTemplates } from '../src/migrations/template.js';

const USAGE = 'usage: npm run bench:tenants -- [--tenants 1000] [--timed 200] [--concurrency 4] [--json]';
const { values } = parseCliArgs({
  options: {
    tenants: { type: 'string', default: '1000' },
    timed: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '4' },
    json: { type: 'boolean', default: false },
  },
}, USAGE);
const { tenants, timedCreates, concurrency } = parseArgsOrExit(() => {
  const count = (name: 'tenants' | 'timed' | 'concurrency') => wholeNumberArg(name, values[name], { min: 1 })!;
  return { tenants: count('tenants'), timedCreates: Math.min(count('tenants'), count('timed')), concurrency: count('concurrency') };
});

// A throwaway embedded cluster of its own: the numbers must not depend on
// whatever else the developer's database holds. Durability stays on (fsync),
// as in production.
const dataDir = path.join(os.tmpdir(), `schemata-bench-${randomBytes(3).toString('hex')}`);
const base = loadConfig();
const database = await openDatabase({ ...base, databaseUrl: undefined, databaseDirectUrl: undefined, dataDir, poolSize: concurrency + 2 });
console.error(database.description);
const progress = createProgress('bench');
let phase = '';
try {
  const result = await runFleetBenchmark(database, await loadTemplates(base.templatesDir), {
    tenants,
    timedCreates,
    concurrency,
    onProgress: (name, done, total) => {
      if (name !== phase) {
        progress.stop();
        progress.log(name);
        phase = name;
      }
      progress.update(done, total, 0);
    },
  });
  progress.stop();
  if (values.json) {
    console.log(JSON.stringify(result, null, 2));
  } else {
    const p = result.provisioning;
    console.log(`tenants: ${result.tenants} (${os.cpus().length} cores, node ${process.version})`);
    console.log(`provisioning: median ${p.medianMs.toFixed(1)} ms, p95 ${p.p95Ms.toFixed(1)} ms, max ${p.maxMs.toFixed(1)} ms over ${p.samples} creates`);
    console.log(`fan-out of one migration (ADD COLUMN + index): ${(result.fanOut.ms / 1000).toFixed(2)} s for ${result.fanOut.migrated} tenants (${result.fanOut.failed} failed, concurrency ${result.fanOut.concurrency})`);
    console.log(`no-op migrate: ${result.noOpMs.toFixed(1)} ms`);
    console.log(
      `analytics refresh over ${result.tenants} tenants: ${result.analytics.refreshMs.toFixed(0)} ms; ` +
        `reading the snapshot: ${result.analytics.readMs.toFixed(1)} ms; fleet overview: ${result.analytics.fleetOverviewMs.toFixed(1)} ms`,
    );
  }
} finally {
  await database.close();
  await fs.rm(dataDir, { recursive: true, force: true });
}
