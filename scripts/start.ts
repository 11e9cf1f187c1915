import { parseCliArgs } from '../src/cli/args.js';
import { runScript } from '../src/cli/run-script.js';
import { listTenants } from '../src/control/registry/tenant.repository.js';
import { migrateTenants } from '../src/control/fleet/migrate-tenants.js';
import { DEMO_LOGINS, DEMO_PASSWORD, DEMO_TENANT_SLUGS, describeSeedResult, seedDemoTenants } from '../src/seed/demo-tenants.service.js';
import { GRAPHIQL_DEMO_TENANT } from '../src/server/graphiql-demo-token.js';
import { startServer } from '../src/server/main.js';

parseCliArgs({ options: {} }, 'usage: npm start     development: the embedded PostgreSQL unless DATABASE_URL is set, migrations, the demo tenants (DEMO_TENANTS=off skips them), the server on PORT (4000)');

await runScript(
  async ({ config, database, templates, untilSignal }) => {
    const migration = await migrateTenants(database, templates.tenant, { direction: { direction: 'up' }, concurrency: config.migrateConcurrency });
    if (migration.migrated + migration.failed > 0) {
      console.log(`tenants: ${migration.migrated} migrated to version ${templates.tenant.latestVersion}, ${migration.failed} failed`);
      for (const r of migration.results) if (!r.ok) console.log(`  failed ${r.slug} [${r.code}]: ${r.error}`);
    }
    for (const f of migration.roleLogins.failed) console.log(`tenant role of ${f.schema} not given LOGIN (TENANT_ROLE_LOGIN): ${f.error}`);
    const before = new Set((await listTenants(database.control)).map((t) => t.slug));
    const missing = DEMO_TENANT_SLUGS.filter((slug) => !before.has(slug));
    if (config.demoTenants && missing.length > 0) {
      // Not only on an empty database: a tenant created before the first start must not cost the demo.
      console.log(`creating the demo tenants (${missing.join(', ')} missing; DEMO_TENANTS=off skips this)`);
      for (const result of await seedDemoTenants(database, templates.tenant)) console.log(`  ${describeSeedResult(result)}`);
    }
    const tenants = await listTenants(database.control);
    const shown = tenants.slice(0, 10).map((t) => `${t.slug} (v${t.template_version}, ${t.status})`);
    console.log(`tenants (${tenants.length}): ${shown.join(', ')}${tenants.length > shown.length ? ', …' : ''}`);

    const server = await startServer({ config, database, templates });
    const base = `http://localhost:${server.port}`;
    console.log(`\nGraphQL:  ${base}/graphql  (also ${base}/t/<slug>/graphql and http://<slug>.${config.baseDomain}:${server.port}/graphql)`);
    // The logins (and GraphiQL's prefilled token) are offered only where they exist: acme as the seed made it.
    const acme = tenants.find((t) => t.slug === GRAPHIQL_DEMO_TENANT && t.status === 'active');
    if (!config.production) {
      console.log(
        `GraphiQL: open ${base}/graphql; ${acme ? `its headers come with ${acme.slug} and a one-hour viewer token: press Run` : 'add "X-Tenant-ID" and "Authorization": "Bearer <token>" to its headers'}`,
      );
    }
    if (acme) console.log(`Sign in:  ${DEMO_LOGINS.map((l) => `${l.localPart}@acme.example`).join(', ')} (password ${DEMO_PASSWORD}), or mint a token:`);
    const example = acme ?? tenants[0];
    if (example) {
      console.log(`Try:      TOKEN=$(npm run -s token -- --tenant ${example.slug} --role viewer)
          curl -s -H 'X-Tenant-ID: ${example.slug}' -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' ${base}/graphql \\
            -d '{"query":"{ tenant { slug } deployments(first: 3, filter: {status: [ACTIVE]}) { totalCount edges { node { url project { name } } } } }"}'`);
    } else console.log('Tenants:  none yet: npm run tenant -- create <slug>');
    if (server.metricsPort !== undefined) console.log(`Metrics:  http://${config.metricsHost}:${server.metricsPort}/metrics (not on the public port)`);
    console.log(`Console:  ${base}/admin; sign in with the link npm run -s token -- --platform-admin --link prints`);
    console.log(`Admin:    ${base}/admin/graphql${config.production ? '' : ' (GraphiQL)'} with a platform-admin token: npm run -s token -- --platform-admin`);
    console.log(database.stopsServerOnClose ? 'Ctrl-C stops the server and the database.' : 'Ctrl-C stops the server (the database was already running and keeps running).');

    await untilSignal();
    console.log(`stopping: /ready answers 503, in-flight requests finish${database.stopsServerOnClose ? ', then the database stops' : ''}`);
    await server.shutdown();
  },
  { ensureControlPlane: true, connection: 'pooled' },
);
