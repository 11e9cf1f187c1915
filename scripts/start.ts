import { runScript } from '../src/cli/run-script.js';
import { listTenants } from '../src/control/registry/tenant.repository.js';
import { migrateTenants } from '../src/control/fleet/migrate-tenants.js';
import { DEMO_LOGINS, DEMO_PASSWORD, describeSeedResult, seedDemoTenants } from '../src/seed/demo-tenants.service.js';
import { startServer } from '../src/server/main.js';

await runScript(
  async ({ config, database, templates, untilSignal }) => {
    const migration = await migrateTenants(database, templates.tenant, { direction: { direction: 'up' }, concurrency: config.migrateConcurrency });
    if (migration.migrated + migration.failed > 0) {
      console.log(`tenants: ${migration.migrated} migrated to version ${templates.tenant.latestVersion}, ${migration.failed} failed`);
      for (const r of migration.results) if (!r.ok) console.log(`  failed ${r.slug} [${r.code}]: ${r.error}`);
    }
    for (const f of migration.roleLogins.failed) console.log(`tenant role of ${f.schema} not given LOGIN (TENANT_ROLE_LOGIN): ${f.error}`);
    if ((await listTenants(database.control)).length === 0) {
      console.log('empty database: creating the demo tenants');
      for (const result of await seedDemoTenants(database, templates.tenant)) console.log(`  ${describeSeedResult(result)}`);
    }
    const tenants = await listTenants(database.control);
    const shown = tenants.slice(0, 10).map((t) => `${t.slug} (v${t.template_version}, ${t.status})`);
    console.log(`tenants (${tenants.length}): ${shown.join(', ')}${tenants.length > shown.length ? ', …' : ''}`);

    const server = await startServer({ config, database, templates });
    const base = `http://localhost:${server.port}`;
    console.log(`\nGraphQL:  ${base}/graphql  (also ${base}/t/<slug>/graphql and http://<slug>.${config.baseDomain}:${server.port}/graphql)`);
    if (!config.production) {
      console.log(`GraphiQL: open ${base}/graphql; add "Authorization": "Bearer <token>" to its headers (X-Tenant-ID is prefilled)`);
    }
    console.log(`Sign in:  ${DEMO_LOGINS.map((l) => `${l.localPart}@acme.example`).join(', ')} (password ${DEMO_PASSWORD}), or mint a token:`);
    console.log(`Try:      TOKEN=$(npm run -s token -- --tenant acme --role viewer)
          curl -s -H 'X-Tenant-ID: acme' -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' ${base}/graphql \\
            -d '{"query":"{ tenant { slug } deployments(first: 3, filter: {status: [ACTIVE]}) { totalCount edges { node { url project { name } } } } }"}'`);
    if (server.metricsPort !== undefined) console.log(`Metrics:  http://${config.metricsHost}:${server.metricsPort}/metrics (not on the public port)`);
    console.log(`Admin:    ${base}/admin/graphql${config.production ? '' : ' (GraphiQL)'} with a platform-admin token: npm run -s token -- --platform-admin`);
    console.log('Ctrl-C stops the server and the database.');

    await untilSignal();
    console.log('stopping: /ready answers 503, in-flight requests finish, then the database stops');
    await server.shutdown();
  },
  { ensureControlPlane: true, connection: 'pooled' },
);
