import { parseCliArgs } from '../src/cli/args.js';
import { createProgress } from '../src/cli/progress.js';
import { runScript, UsageError } from '../src/cli/run-script.js';
import { findLatestSnapshot, type FleetAnalyticsSnapshot } from '../src/control/usage/fleet-analytics.repository.js';
import { refreshFleetAnalytics } from '../src/control/usage/fleet-analytics.service.js';

const USAGE = `usage:
  npm run analytics -- refresh [--json]   recompute the cross-tenant aggregates (one statement per 200 tenant schemas)
  npm run analytics -- show [--json]      the latest snapshot, as /admin/graphql serves it`;

const { positionals, values } = parseCliArgs({ allowPositionals: true, options: { json: { type: 'boolean', default: false } } }, USAGE);
const [command, ...extra] = positionals;

await runScript(
  async ({ database }) => {
    let snapshot: FleetAnalyticsSnapshot | undefined;
    if (command === 'refresh') {
      const progress = createProgress('analytics');
      try {
        snapshot = await refreshFleetAnalytics(database, { onProgress: (done, total) => progress.update(done, total, 0) });
      } finally {
        progress.stop();
      }
    } else {
      snapshot = await findLatestSnapshot(database.control);
      if (!snapshot) {
        console.error('no analytics yet: npm run analytics -- refresh');
        return 1;
      }
    }
    if (values.json) {
      console.log(JSON.stringify(snapshot, null, 2));
      return;
    }
    const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
    const list = (counts: Record<string, number>) => Object.entries(counts).map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
    console.log(`computed ${snapshot.computedAt.toISOString()} over ${snapshot.tenantsScanned} tenants in ${snapshot.durationMs} ms`);
    console.log(`  deployments ${sum(snapshot.deploymentsByStatus)}: ${list(snapshot.deploymentsByStatus)}`);
    console.log(`  workflows ${sum(snapshot.workflowsByStatus)}: ${list(snapshot.workflowsByStatus)}`);
    const recent = snapshot.growth.slice(-7);
    console.log(`  last 7 days (tenants / deployments / users created): ${recent.map((d) => `${d.day.slice(5)} ${d.tenantsCreated}/${d.deploymentsCreated}/${d.usersCreated}`).join(', ')}`);
  },
  {
    ensureControlPlane: true,
    precheck: () => {
      if (command === undefined) throw new UsageError('say which: refresh or show');
      if (!['refresh', 'show'].includes(command)) throw new UsageError(`unknown command "${command}": refresh or show`);
      if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
    },
  },
);
