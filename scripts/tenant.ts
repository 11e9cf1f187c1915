import { parseArgs } from 'node:util';
import { runScript, UsageError } from '../src/cli/run-script.js';
import { listTenants } from '../src/control/tenant.repository.js';
import { validateSlug } from '../src/control/slug.js';
import { createTenant, deleteTenant, rotateSigningKey } from '../src/control/tenant.service.js';

const USAGE = `usage:
  npm run tenant -- create <slug> [--name "Display Name"]
  npm run tenant -- list [--json]
  npm run tenant -- delete <slug> --force
  npm run tenant -- rotate-key <slug>        new signing secret: every access token of the tenant stops working`;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    name: { type: 'string' },
    json: { type: 'boolean', default: false },
    force: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
const [command, slug, ...extra] = positionals;

if (values.help || command === undefined) {
  console.log(USAGE);
  process.exit(values.help ? 0 : 2);
}

await runScript(
  async ({ database, templates }) => {
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}\n${USAGE}`);
    switch (command) {
      case 'create': {
        if (!slug) throw new UsageError(`create needs a slug\n${USAGE}`);
        const { tenant, durationMs } = await createTenant(database, templates.tenant, { slug, name: values.name });
        console.log(`created tenant ${tenant.slug} ("${tenant.name}") in ${durationMs.toFixed(1)} ms`);
        console.log(`  schema ${tenant.schema_name}, template version ${tenant.template_version}, id ${tenant.id}`);
        return;
      }
      case 'list': {
        const tenants = await listTenants(database.control);
        if (values.json) {
          console.log(JSON.stringify(tenants, null, 2));
        } else if (tenants.length === 0) {
          console.log('no tenants yet: npm run tenant -- create <slug>');
        } else {
          console.table(
            tenants.map((t) => ({ slug: t.slug, name: t.name, status: t.status, plan: t.plan, version: t.template_version, schema: t.schema_name })),
          );
        }
        return;
      }
      case 'delete': {
        if (!slug) throw new UsageError(`delete needs a slug\n${USAGE}`);
        const tenant = await deleteTenant(database, slug, { force: values.force });
        console.log(`deleted tenant ${tenant.slug}: dropped schema and role ${tenant.schema_name} and its registry row`);
        return;
      }
      case 'rotate-key': {
        if (!slug) throw new UsageError(`rotate-key needs a slug\n${USAGE}`);
        const tenant = await rotateSigningKey(database, slug);
        console.log(`rotated the signing key of ${tenant.slug}: its access tokens issued before now are rejected; refresh tokens still work`);
        return;
      }
      default:
        throw new UsageError(`unknown command "${command}"\n${USAGE}`);
    }
  },
  {
    ensureControlPlane: true,
    // Hostile or mistyped slugs are refused before any connection is made.
    precheck: () => {
      if (slug !== undefined && ['create', 'delete', 'rotate-key'].includes(command)) validateSlug(slug);
    },
  },
);
