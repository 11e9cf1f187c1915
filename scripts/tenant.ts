import { parseCliArgs } from '../src/cli/args.js';
import { runScript, UsageError } from '../src/cli/run-script.js';
import { listTenants } from '../src/control/registry/tenant.repository.js';
import { validateSlug } from '../src/control/registry/slug.js';
import { printFleet, printLifecycle, printPlans, printUsage } from '../src/cli/tenant-output.js';
import { counted, formatTable } from '../src/cli/table.js';
import { cloneCommand, exportCommand, importCommand } from '../src/cli/tenant-transfer-commands.js';
import { domainCommand, parseDomainCommand } from '../src/cli/tenant-domain-commands.js';
import { parseSettingsCommand, settingsCommand } from '../src/cli/tenant-settings-commands.js';
import { loadMasterKeys } from '../src/control/settings/settings-cipher.js';
import { listPlans } from '../src/control/plans/plan.repository.js';
import { changeTenantPlan, purgeTenant, renameTenant, restoreTenant, resumeTenant, softDeleteTenant, suspendTenant } from '../src/control/tenants/tenant-lifecycle.service.js';
import { fleetOverview, tenantUsage } from '../src/control/usage/tenant-usage.service.js';
import { createTenant, getTenant, rotateSigningKey } from '../src/control/tenants/tenant.service.js';
import { moveTenantToCitusNode } from '../src/control/tenants/citus-placement.service.js';
import { SchemataError } from '../src/errors.js';

const USAGE = `usage:
  npm run tenant -- create <slug> [--name "Display Name"] [--plan basic|premium|enterprise|custom]
  npm run tenant -- list [--json]
  npm run tenant -- show <slug> [--json]          usage and health: rows, storage, requests, version, drift
  npm run tenant -- fleet [--json]                tenants by status, plan and template version
  npm run tenant -- suspend <slug>                its next request gets 403
  npm run tenant -- resume <slug>
  npm run tenant -- delete <slug>                 soft: stops resolving, schema kept; undo with restore
  npm run tenant -- restore <slug>
  npm run tenant -- purge <slug> --force          drops a deleted tenant's schema and role for good
  npm run tenant -- rename <slug> <new-slug> [--name "Display Name"]
  npm run tenant -- change-plan <slug> <plan>
  npm run tenant -- plans                         the plans and their limits
  npm run tenant -- rotate-key <slug>             new signing secret: every access token of the tenant stops working
  npm run tenant -- citus-move <slug> --to <host:port>
                                                  on Citus: moves the tenant's schema to that worker, online (citus_schema_move)
  npm run tenant -- export <slug> [--without-credentials] > acme.ndjson
                                                  every table's rows as NDJSON on stdout (the summary goes to stderr);
                                                  --without-credentials leaves out password hashes and token rows
  npm run tenant -- import <file> --as <new-slug> [--name "Display Name"]
                                                  into a new tenant, migrated to the template head; <file> may be - (stdin)
  npm run tenant -- clone <slug> --as <new-slug> [--name "Display Name"]
                                                  schema and data copied inside the database, e.g. for a staging tenant
  npm run tenant -- domain add <slug> <host>      a custom domain (events.customer.example), unverified: 404 until verified
  npm run tenant -- domain list <slug> [--json]
  npm run tenant -- domain verify <slug> <host>   fetches http://<host>/.well-known/schemata-verification/<token>
  npm run tenant -- domain remove <slug> <host>
  npm run tenant -- settings set <slug> <key> <value|-> [--secret]
                                                  a setting; --secret encrypts it; - reads the value from stdin
  npm run tenant -- settings list <slug> [--json] secrets shown masked
  npm run tenant -- settings reveal <slug> <key>  a secret in clear (stdout only); the reveal is recorded
  npm run tenant -- settings delete <slug> <key>
  npm run tenant -- settings rotate-key <slug>    a new data key for the tenant; its secrets re-encrypted
  npm run tenant -- settings rewrap               after a master key rotation: every data key wrapped by the current key`;

const { positionals, values } = parseCliArgs({
  allowPositionals: true,
  options: {
    name: { type: 'string' },
    plan: { type: 'string' },
    as: { type: 'string' },
    to: { type: 'string' },
    json: { type: 'boolean', default: false },
    force: { type: 'boolean', default: false },
    secret: { type: 'boolean', default: false },
    'without-credentials': { type: 'boolean', default: false },
  },
}, USAGE);
const [command, slug, ...rest] = positionals;
// rename and change-plan take a second positional: the new slug, the plan.
const second = command === 'rename' || command === 'change-plan' ? rest[0] : undefined;
const newSlug = command === 'rename' ? second : undefined;
const extra = second === undefined ? rest : rest.slice(1);
// domain reads its own arguments: <add|list|verify|remove> <slug> [host].
const domainArgs = [slug, ...rest];

if (command === undefined) {
  // No command at all: the usage is the answer, but the run did nothing.
  console.error(USAGE);
  process.exit(2);
}

function needSlug(action: string): string {
  if (!slug) throw new UsageError(`${action} needs a slug`);
  return slug;
}

await runScript(
  async ({ config, database, templates }) => {
    if (command === 'domain') return domainCommand(database, config, parseDomainCommand(domainArgs), { json: values.json });
    if (command === 'settings') return settingsCommand(database, loadMasterKeys(config), parseSettingsCommand([slug, ...rest]), { json: values.json, secret: values.secret });
    if (values.secret) throw new UsageError('--secret belongs to settings set');
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
    switch (command) {
      case 'create': {
        if (!slug) throw new UsageError('create needs a slug');
        const { tenant, durationMs } = await createTenant(database, templates.tenant, { slug, name: values.name, plan: values.plan });
        console.log(`created tenant ${tenant.slug} ("${tenant.name}", plan ${tenant.plan}) in ${durationMs.toFixed(1)} ms`);
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
          console.log(formatTable(tenants.map((t) => ({ slug: t.slug, name: t.name, status: t.status, plan: t.plan, version: `v${t.template_version}`, schema: t.schema_name }))));
          console.log(counted(tenants.length, 'tenant'));
        }
        return;
      }
      case 'show': {
        const usage = await tenantUsage(database, templates.tenant, await getTenant(database, needSlug('show')));
        if (values.json) console.log(JSON.stringify(usage, null, 2));
        else printUsage(usage);
        return;
      }
      case 'fleet': {
        const fleet = await fleetOverview(database, templates.tenant);
        if (values.json) console.log(JSON.stringify(fleet, null, 2));
        else printFleet(fleet);
        return;
      }
      // Each is a no-op when the state is already reached; read first so the output can say so.
      case 'suspend': {
        const before = await getTenant(database, needSlug('suspend'));
        return printLifecycle('suspended', await suspendTenant(database, before.slug), before);
      }
      case 'resume': {
        const before = await getTenant(database, needSlug('resume'));
        return printLifecycle('resumed', await resumeTenant(database, before.slug), before);
      }
      case 'delete': {
        const before = await getTenant(database, needSlug('delete'));
        return printLifecycle('deleted (soft: schema kept; `restore` undoes it, `purge --force` drops it)', await softDeleteTenant(database, before.slug), before);
      }
      case 'restore':
        return printLifecycle('restored', await restoreTenant(database, templates.tenant, needSlug('restore')));
      case 'purge': {
        const target = needSlug('purge');
        if (!values.force) throw new SchemataError('FORCE_REQUIRED', `purging tenant "${target}" drops its schema and all its data; repeat with --force to confirm`);
        const tenant = await purgeTenant(database, target);
        console.log(`purged tenant ${tenant.slug}: dropped schema and role ${tenant.schema_name} and its registry row`);
        return;
      }
      case 'rename': {
        const from = needSlug('rename');
        if (!newSlug) throw new UsageError('rename needs the new slug');
        const tenant = await renameTenant(database, from, { newSlug, name: values.name });
        console.log(`renamed tenant ${from} to ${tenant.slug} ("${tenant.name}"); schema ${tenant.schema_name} unchanged`);
        return;
      }
      case 'change-plan': {
        const target = needSlug('change-plan');
        if (!second) throw new UsageError('change-plan needs a plan');
        const tenant = await changeTenantPlan(database, target, second);
        console.log(`tenant ${tenant.slug} is on plan ${tenant.plan}`);
        return;
      }
      case 'plans': {
        const plans = await listPlans(database.control);
        if (values.json) console.log(JSON.stringify(plans, null, 2));
        else printPlans(plans);
        return;
      }
      case 'rotate-key': {
        const tenant = await rotateSigningKey(database, needSlug('rotate-key'));
        console.log(`rotated the signing key of ${tenant.slug}: its access tokens issued before now are rejected; refresh tokens still work`);
        return;
      }
      case 'citus-move': {
        if (!values.to) throw new UsageError('citus-move needs --to <host:port>');
        const move = await moveTenantToCitusNode(database, needSlug('citus-move'), values.to);
        console.log(
          move.moved
            ? `moved ${move.tenant.slug} from ${move.from.join(', ')} to ${move.to} in ${(move.durationMs / 1000).toFixed(2)} s`
            : `${move.tenant.slug} is already on ${move.to}: nothing moved`,
        );
        return;
      }
      case 'export':
        return exportCommand(database, needSlug('export'), { withoutCredentials: values['without-credentials'] });
      case 'import': {
        if (!slug || !values.as) throw new UsageError('import needs a file and --as <new-slug>');
        return importCommand(database, templates.tenant, slug, { slug: values.as, name: values.name, settingsKeys: loadMasterKeys(config) });
      }
      case 'clone': {
        if (!values.as) throw new UsageError('clone needs --as <new-slug>');
        return cloneCommand(database, templates.tenant, needSlug('clone'), { slug: values.as, name: values.name, settingsKeys: loadMasterKeys(config) });
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  },
  {
    ensureControlPlane: true,
    // Hostile or mistyped slugs are refused before any connection is made.
    precheck: () => {
      // import's positional is a file, not a slug.
      if (slug !== undefined && !['list', 'fleet', 'import', 'domain', 'settings'].includes(command)) validateSlug(slug);
      if (command === 'settings') {
        const parsed = parseSettingsCommand([slug, ...rest]);
        if (parsed.slug !== undefined) validateSlug(parsed.slug);
      }
      if (command === 'domain') validateSlug(parseDomainCommand(domainArgs).slug);
      if (values.as !== undefined) validateSlug(values.as);
      if (newSlug !== undefined) validateSlug(newSlug);
    },
  },
);
