import { parseCliArgs } from '../src/cli/args.js';
import { runScript } from '../src/cli/run-script.js';
import { startServer } from '../src/server/main.js';

parseCliArgs({ options: {} }, 'usage: npm run serve     production: serves on PORT (4000) and metrics on METRICS_PORT; run npm run migrate first (/ready answers 503 while a tenant is behind)');

// Production entry: serve only. Migrations run separately (npm run migrate);
// /ready stays 503 while any tenant is behind the template head.
await runScript(async ({ config, database, templates, untilSignal }) => {
  const server = await startServer({ config, database, templates });
  console.log(`listening on http://127.0.0.1:${server.port}/graphql`);
  if (server.metricsPort !== undefined) console.log(`metrics on http://${config.metricsHost}:${server.metricsPort}/metrics`);
  await untilSignal();
  console.log('stopping: /ready answers 503, in-flight requests finish, then the database pool closes');
  await server.shutdown();
}, { connection: 'pooled' });
