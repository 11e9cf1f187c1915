import { runScript } from '../src/cli/run-script.js';
import { listTenants } from '../src/control/tenant.repository.js';
import { migrateTenants } from '../src/migrations/migrate-tenants.js';
import { describeSeedResult, seedDemoTenants } from '../src/seed/demo-tenants.service.js';

// Until the GraphQL server lands, `npm start` brings the database to a usable
// state (migrated, demo tenants on first run) and keeps it running.
await runScript(
  async ({ config, database, templates, untilSignal }) => {
    const migration = await migrateTenants(database, templates.tenant, { direction: { direction: 'up' }, concurrency: config.migrateConcurrency });
    if (migration.migrated + migration.failed > 0) {
      console.log(`tenants: ${migration.migrated} migrated to version ${templates.tenant.latestVersion}, ${migration.failed} failed`);
      for (const r of migration.results) if (!r.ok) console.log(`  failed ${r.slug} [${r.code}]: ${r.error}`);
    }
    if ((await listTenants(database.control)).length === 0) {
      console.log('empty database: creating the demo tenants');
      for (const result of await seedDemoTenants(database, templates.tenant)) console.log(`  ${describeSeedResult(result)}`);
    }
    const tenants = await listTenants(database.control);
    const shown = tenants.slice(0, 10).map((t) => `${t.slug} (v${t.template_version}, ${t.status})`);
    console.log(`tenants (${tenants.length}): ${shown.join(', ')}${tenants.length > shown.length ? ', …' : ''}`);
    console.log('ready. Other commands (npm run tenant, npm run migrate) reuse this database. Ctrl-C stops it.');
    await untilSignal();
    console.log('stopping');
  },
  { ensureControlPlane: true },
);
