import { runScript } from '../src/cli/run-script.js';
import { describeSeedResult, seedDemoTenants } from '../src/seed/demo-tenants.service.js';

await runScript(
  async ({ database, templates }) => {
    for (const result of await seedDemoTenants(database, templates.tenant)) console.log(describeSeedResult(result));
  },
  { ensureControlPlane: true },
);
