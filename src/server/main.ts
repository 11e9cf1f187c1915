import type { Config } from '../config.js';
import { TenantRegistry } from '../control/tenant-registry.js';
import type { Database } from '../db/database.js';
import type { Templates } from '../migrations/template.js';
import type http from 'node:http';
import { createAdminYoga, ADMIN_GRAPHQL_ENDPOINT } from './admin-yoga.js';
import { listen } from './http-server.js';
import { nodeListener } from './node-listener.js';
import { createLogger } from './logger.js';
import { createReadiness } from './readiness.js';
import { createTenantRateLimiter } from './tenant-rate-limiter.js';
import { UsageRecorder } from './usage-recorder.js';
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
  const logger = createLogger(config.logLevel);
  const usage = new UsageRecorder(database, { onError: (error) => logger.warn({ err: error }, 'recording usage failed; kept for the next flush') });
  const yoga = createSchemataYoga({ config, database, registry, readiness, rateLimiter, logger, usage });
  const admin = createAdminYoga({
    config,
    database,
    template: options.templates.tenant,
    logger,
    logError: (error) => logger.error({ err: error }, 'unexpected admin error'),
  });
  const escaped = (error: unknown) => logger.error({ err: error }, 'unexpected error outside GraphQL');
  const server = await listen(routeRequests(nodeListener(admin, escaped), nodeListener(yoga, escaped)), options.port ?? config.port);
  return {
    port: server.port,
    async shutdown() {
      readiness.drain();
      await server.close();
      await registry.close();
      await rateLimiter.close();
      await usage.close();
    },
  };
}

/** /admin/… goes to the operators' API; everything else to the tenant API. */
function routeRequests(admin: http.RequestListener, tenants: http.RequestListener): http.RequestListener {
  const adminPrefix = ADMIN_GRAPHQL_ENDPOINT.slice(0, ADMIN_GRAPHQL_ENDPOINT.lastIndexOf('/') + 1);
  return (request, response) => (request.url?.startsWith(adminPrefix) ? admin(request, response) : tenants(request, response));
}
