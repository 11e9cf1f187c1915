import { createProgress } from '../src/cli/progress.js';
import { parseCliArgs, wholeNumberArg } from '../src/cli/args.js';
import { runScript, UsageError } from '../src/cli/run-script.js';
import { validateSlug } from '../src/control/registry/slug.js';
import { getTenant } from '../src/control/tenants/tenant.service.js';
import { migrateControlPlane } from '../src/migrations/migrate-control.js';
import type { MigrationDirection } from '../src/migrations/migrate-schema.js';
import { migrateTenants, type MigrateTenantsResult } from '../src/control/fleet/migrate-tenants.js';
import { migrationStatus, type MigrationStatus } from '../src/control/fleet/migration-status.js';

const USAGE = `usage:
  npm run migrate [-- --concurrency N] [--tenant <slug>] [--json]   control plane, then every tenant that is behind
  npm run migrate -- status [--json]                                 tenants per version, who is behind, drift
  npm run migrate -- down [--to <version>] [--tenant <slug>] [--concurrency N] [--json]
                                                                      revert one migration per tenant, or down to <version>`;

const { positionals, values } = parseCliArgs({
  allowPositionals: true,
  options: {
    concurrency: { type: 'string' },
    tenant: { type: 'string' },
    to: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
}, USAGE);
const command = positionals[0] ?? 'up';

// Checked in precheck, before any connection is made.
let concurrencyArg: number | undefined;
let toArg: number | undefined;

await runScript(
  async ({ config, database, templates }) => {
    if (command === 'status') {
      const status = await migrationStatus(database, templates);
      if (values.json) console.log(JSON.stringify(status, null, 2));
      else printStatus(status);
      return status.control.drift.length + status.tenants.drift.length > 0 ? 1 : 0;
    }

    const concurrency = concurrencyArg ?? config.migrateConcurrency;
    if (concurrency > config.poolSize) throw new UsageError(`--concurrency ${concurrency} exceeds the pool size ${config.poolSize} (PG_POOL_SIZE)`);
    const slugs = values.tenant === undefined ? undefined : [(await getTenant(database, values.tenant)).slug];
    let direction: MigrationDirection;
    if (command === 'up') {
      const control = await migrateControlPlane(database, templates.control);
      if (!values.json) {
        console.log(control.names.length > 0 ? `control plane: applied ${control.names.join(', ')}` : `control plane: up to date (version ${control.version})`);
      }
      direction = { direction: 'up' };
    } else if (command === 'down') {
      direction = { direction: 'down', toVersion: toArg };
    } else {
      throw new UsageError(`unknown command "${command}"`);
    }

    const progress = values.json ? undefined : createProgress(command === 'up' ? 'migrating' : 'reverting');
    const result = await migrateTenants(database, templates.tenant, {
      direction,
      concurrency,
      slugs,
      onProgress: ({ done, total, last }) => {
        if (last && !last.ok) progress?.log(`[${done}/${total} ${last.slug}] failed: ${last.error}`);
        if (total > 0) progress?.update(done, total, 0);
      },
    });
    progress?.stop();
    if (values.json) console.log(JSON.stringify(result, null, 2));
    else printSummary(result, command === 'up' ? templates.tenant.latestVersion : direction);
    return result.failed > 0 ? 1 : 0;
  },
  {
    // status only reads (it reports pending control-plane migrations); up applies them itself, with its own output.
    ensureControlPlane: command === 'down',
    precheck: () => {
      if (values.tenant !== undefined) validateSlug(values.tenant);
      concurrencyArg = wholeNumberArg('concurrency', values.concurrency, { min: 1 });
      toArg = wholeNumberArg('to', values.to, { min: 0 });
    },
  },
);

function printSummary(result: MigrateTenantsResult, target: number | MigrationDirection): void {
  const goal = typeof target === 'number' ? `template version ${target}` : target.direction === 'down' && target.toVersion !== undefined ? `version ${target.toVersion}` : 'one step down';
  const { changed, failed } = result.roleLogins;
  if (changed.length > 0) console.log(`tenant roles: ${changed.length} given LOGIN and a credential (TENANT_ROLE_LOGIN)`);
  for (const f of failed) console.log(`  role of ${f.schema} kept as it was: ${f.error}`);
  console.log(
    `summary (${goal}): ${result.migrated} migrated, ${result.alreadyCurrent} already current, ${result.failed} failed, in ${(result.durationMs / 1000).toFixed(2)} s`,
  );
  for (const r of result.results) {
    if (!r.ok) console.log(`  failed  ${r.slug} (at version ${r.from}) [${r.code}]: ${r.error}`);
  }
}

function printStatus(status: MigrationStatus): void {
  const { control, tenants } = status;
  console.log(
    `control plane: version ${control.latestVersion}, ${control.pending.length === 0 ? 'up to date' : `pending: ${control.pending.join(', ')}`}`,
  );
  for (const d of control.drift) console.log(`  DRIFT control ${d.file}: ${d.problem}`);
  console.log(`tenants: ${tenants.total}, template head is version ${tenants.latestVersion}`);
  for (const row of tenants.byVersion) console.log(`  version ${row.version}: ${row.count} ${row.status}`);
  if (tenants.behind.length > 0) {
    console.log(`behind (${tenants.behind.length}): ${tenants.behind.slice(0, 20).map((t) => `${t.slug}@${t.version}`).join(', ')}${tenants.behind.length > 20 ? ', …' : ''}`);
  }
  if (tenants.drift.length === 0) console.log('drift: none');
  for (const d of tenants.drift) console.log(`  DRIFT ${d.slug} ${d.file}: ${d.problem}`);
}
