// Child process of the list-page benchmark: the real server, as npm start runs
// it but without migrating or seeding. env: DATABASE_URL, PG_POOL_SIZE. Prints "ready <port>".
import { loadConfig } from '../config.js';
import { TenantRegistry } from '../control/tenant-registry.js';
import { openDatabase } from '../db/database.js';
import { listen } from '../server/http-server.js';
import { createSchemataYoga } from '../server/yoga.js';

const config = loadConfig();
const database = await openDatabase(config);
const registry = await TenantRegistry.start(database);
const yoga = createSchemataYoga({ config, database, registry });
const server = await listen(yoga, 0);
console.log(`ready ${server.port}`);
process.on('SIGTERM', async () => {
  await server.close();
  await registry.close();
  await database.close();
  process.exit(0);
});
