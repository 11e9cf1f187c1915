import type { Config } from '../config.js';
import { TenantRegistry } from '../control/tenant-registry.js';
import type { Database } from '../db/database.js';
import type { Templates } from '../migrations/template.js';
import { listen } from './http-server.js';
import { createReadiness } from './readiness.js';
import { createTenantRateLimiter } from './tenant-rate-limiter.js';
import { createSchemataYoga, rateLimiterSettings } from './yoga.js';

export interface RunningServer {
  readonly port: number;
  /**
   * Graceful stop: /ready turns 503 at once, the listener stops accepting,
   * in-flight requests finish, then the registry's LISTEN connection closes.
   * The caller closes the database afterwards.
   */
  shutdown(): Promise<void>;
}

/** The GraphQL server over node:http, as `npm start` runs it. */
export async function startServer(options: { config: Config; database: Database; templates: Templates; port?: number }): Promise<RunningServer> {
  const { config, database } = options;
  const registry = await TenantRegistry.start(database);
  const readiness = createReadiness(database, options.templates.tenant.latestVersion);
  const rateLimiter = createTenantRateLimiter(rateLimiterSettings(config));
  const yoga = createSchemataYoga({ config, database, registry, readiness, rateLimiter });
  const server = await listen(yoga, options.port ?? config.port);
  return {
    port: server.port,
    async shutdown() {
      readiness.drain();
      await server.close();
      await registry.close();
      await rateLimiter.close();
    },
  };
}
