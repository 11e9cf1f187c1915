// Child process of the list-page benchmark: the real server, as npm start runs
// it but without migrating or seeding. env: DATABASE_URL, PG_POOL_SIZE, METRICS_PORT. Prints "ready <port> <metrics port>".
// Started with an IPC channel (the subscription benchmark), it answers "memory"
// with process.memoryUsage(), after a full collection when run with --expose-gc.
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/database.js';
import { loadTemplates } from '../../src/migrations/template.js';
import { startServer } from '../../src/server/main.js';

const config = loadConfig();
const database = await openDatabase(config);
const server = await startServer({ config, database, templates: await loadTemplates(config.templatesDir), port: 0 });
console.log(`ready ${server.port} ${server.metricsPort}`);
process.on('message', (message: { type?: string }) => {
  if (message.type !== 'memory') return;
  (globalThis as { gc?: () => void }).gc?.();
  process.send!({ type: 'memory', ...process.memoryUsage() });
});
process.on('SIGTERM', async () => {
  await server.shutdown();
  await database.close();
  process.exit(0);
});
