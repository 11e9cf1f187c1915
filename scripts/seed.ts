import { parseCliArgs } from '../src/cli/args.js';
import { runScript } from '../src/cli/run-script.js';
import { describeSeedResult, seedDemoTenants } from '../src/seed/demo-tenants.service.js';

const USAGE = `usage: npm run seed     creates the demo tenants acme and globex where missing, and fills those that are empty
  (a tenant that already has data is left as it is)`;
parseCliArgs({ options: {} }, USAGE);

await runScript(
  async ({ database, templates }) => {
    for (const result of await seedDemoTenants(database, templates.tenant)) console.log(describeSeedResult(result));
  },
  { ensureControlPlane: true },
);
