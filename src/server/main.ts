import type { Config } from '../config.js';
import { TenantRegistry } from '../control/tenants/tenant-registry.js';
import type { Database } from '../db/database.js';
import type { Templates } from '../migrations/template.js';
import type http from 'node:http';
import { createConfiguredMailer } from '../auth/mailer.js';
import { createAdminYoga, ADMIN_GRAPHQL_ENDPOINT } from './admin-yoga.js';
import { listen } from './http/http-server.js';
import { nodeListener } from './http/node-listener.js';
import { createLogger } from './observability/logger.js';
import { listenMetrics } from './observability/metrics-server.js';
import { createMetrics } from './observability/metrics.js';
import { createReadiness } from './observability/readiness.js';
import { createTenantRateLimiter } from './limits/tenant-rate-limiter.js';
import { UsageRecorder } from './observability/usage-recorder.js';
import { createSchemataYoga, rateLimiterSettings } from './yoga.js';

export interface RunningServer {
  readonly port: number;
  /** Where GET /metrics is served; undefined when METRICS_PORT=off. */
  readonly metricsPort: number | undefined;
  /**
   * Graceful stop: /ready turns 503 at once, the listeners stop accepting,
   * in-flight requests finish, then the registry's LISTEN connection closes.
   * The caller closes the database afterwards.
   */
  shutdown(): Promise<void>;
}

/** The GraphQL server over node:http, as `npm start` runs it. */
export async function startServer(options: { config: Config; database: Database; templates: Templates; port?: number }): Promise<RunningServer> {
  const { config, database } = options;
  const logger = createLogger(config.logLevel);
  const registry = await TenantRegistry.start(database, {
    onSyncChange: (synced) =>
      synced
        ? logger.info('registry in sync: tenants, keys and plans are cached again')
        : logger.warn('registry out of sync (its LISTEN is down or through a transaction pooler): every request reads tenants, keys and plans from the control plane until a probe comes back'),
  });
  const readiness = createReadiness(database, options.templates.tenant.latestVersion);
  const rateLimiter = createTenantRateLimiter(rateLimiterSettings(config));
  const usage = new UsageRecorder(database, { onError: (error) => logger.warn({ err: error }, 'recording usage failed; kept for the next flush') });
  const metrics = createMetrics({ pool: database.pool });
  const mailer = createConfiguredMailer(config);
  if (!mailer) logger.warn('SMTP_URL is not set: inviteUser and requestPasswordReset answer MAIL_NOT_CONFIGURED');
  const yoga = createSchemataYoga({ config, database, registry, readiness, rateLimiter, logger, usage, metrics, mailer });
  const admin = createAdminYoga({
    config,
    database,
    template: options.templates.tenant,
    logger,
    logError: (error) => logger.error({ err: error }, 'unexpected admin error'),
  });
  const escaped = (error: unknown) => logger.error({ err: error }, 'unexpected error outside GraphQL');
  // Before the public port, so a taken metrics port fails the start before any request is taken.
  const metricsServer = config.metricsPort === undefined ? undefined : await listenMetrics(metrics, { port: config.metricsPort, host: config.metricsHost, token: config.metricsToken });
  const server = await listen(routeRequests(nodeListener(admin, escaped), nodeListener(yoga, escaped)), options.port ?? config.port);
  return {
    port: server.port,
    metricsPort: metricsServer?.port,
    async shutdown() {
      readiness.drain();
      await Promise.all([server.close(), metricsServer?.close()]);
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
