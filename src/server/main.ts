import { ConfigError, type Config } from '../config.js';
import { namesTheServer, type PlatformHosts } from '../control/registry/domain-name.js';
import type { Database } from '../db/database.js';
import type { Templates } from '../migrations/template.js';
import type http from 'node:http';
import { createAdminYoga, ADMIN_GRAPHQL_ENDPOINT } from './admin-yoga.js';
import { serveGraphqlWs, type GraphqlWsServer } from './http/graphql-ws.js';
import { listen, type RunningHttpServer } from './http/http-server.js';
import { hasWellFormedUrl, nodeListener, sendError } from './http/node-listener.js';
import { listenMetrics } from './observability/metrics-server.js';
import { createServices } from './services.js';
import { loadGraphiQL } from './lazy-graphiql.js';
import { createSchemataYoga } from './yoga.js';

export interface RunningServer {
  readonly port: number;
  /** Where GET /metrics is served; undefined when METRICS_PORT=off. */
  readonly metricsPort: number | undefined;
  /**
   * Graceful stop: /ready turns 503 at once, the listeners stop accepting,
   * in-flight requests finish, open subscriptions end, then the LISTEN connections close.
   * The caller closes the database afterwards.
   */
  shutdown(): Promise<void>;
}

/** The GraphQL server over node:http, as `npm start` runs it. */
export async function startServer(options: { config: Config; database: Database; templates: Templates; port?: number }): Promise<RunningServer> {
  const { config } = options;
  // Both APIs serve GraphiQL outside production (see lazy-graphiql.ts).
  if (!config.production) await loadGraphiQL();
  const services = await createServices(config, options.database, { latestTemplateVersion: options.templates.tenant.latestVersion });
  const { logger, metrics } = services;
  let metricsServer: RunningHttpServer | undefined;
  let server: RunningHttpServer;
  let subscriptions: GraphqlWsServer;
  try {
    const yoga = createSchemataYoga({ services });
    const admin = createAdminYoga({ services, template: options.templates.tenant });
    const escaped = (error: unknown) => logger.error({ err: error }, 'unexpected error outside GraphQL');
    // Before the public port, so a taken metrics port fails the start before any request is taken.
    const metricsPort = config.metricsPort;
    metricsServer =
      metricsPort === undefined
        ? undefined
        : await listenMetrics(metrics, { port: metricsPort, host: config.metricsHost, token: config.metricsToken }).catch((error: unknown) => {
            throw portTaken(error, 'METRICS_PORT', metricsPort);
          });
    const port = options.port ?? config.port;
    server = await listen(routeRequests(config, nodeListener(admin, escaped), nodeListener(yoga, escaped)), port).catch((error: unknown) => {
      throw portTaken(error, 'PORT', port);
    });
    // WebSocket subscriptions share the port: upgrades to a tenant endpoint go to graphql-ws.
    const trusted = services.trustedDocuments && { documents: services.trustedDocuments, only: config.trustedDocumentsOnly };
    subscriptions = serveGraphqlWs(server.server, yoga, { trusted });
  } catch (error) {
    // The start's own error is the one to report, whatever closing says.
    await metricsServer?.close().catch(() => undefined);
    await services.close().catch(() => undefined);
    throw error;
  }
  return {
    port: server.port,
    metricsPort: metricsServer?.port,
    async shutdown() {
      services.readiness?.drain();
      // Upgraded sockets are the HTTP server's connections too: it cannot finish closing while they are open.
      // Open subscriptions (SSE responses too) would hold the close until its timeout: they end first.
      await services.rowChanges.close();
      await Promise.all([server.close(), subscriptions.close(), metricsServer?.close()]);
      await services.close();
    },
  };
}

/** A port another process holds is the operator's to change: reported as configuration (exit code 2), naming the variable. */
function portTaken(error: unknown, variable: 'PORT' | 'METRICS_PORT', port: number): unknown {
  if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') return error;
  const off = variable === 'METRICS_PORT' ? ', or METRICS_PORT=off for no metrics' : '';
  return new ConfigError([`${variable}: port ${port} is in use (is schemata already running?); choose a free one, e.g. ${variable}=${port + 1}${off}`]);
}

/**
 * /admin/… goes to the operators' API, but only on the platform's own hosts
 * (namesTheServer): on a tenant's custom domain or subdomain it is 404, so
 * the console never shows under a customer's name. Everything else goes to
 * the tenant API.
 */
function routeRequests(platform: PlatformHosts, admin: http.RequestListener, tenants: http.RequestListener): http.RequestListener {
  const adminPrefix = ADMIN_GRAPHQL_ENDPOINT.slice(0, ADMIN_GRAPHQL_ENDPOINT.lastIndexOf('/') + 1);
  const isAdmin = (url = '') => url.startsWith(adminPrefix) || url === '/admin' || url.startsWith('/admin?');
  return (request, response) => {
    if (!isAdmin(request.url)) return tenants(request, response);
    // A malformed request gets its 400 from the listener first; HTTP/1.0 may omit Host, which the listener reads as localhost too.
    if (!hasWellFormedUrl(request) || namesTheServer(request.headers.host ?? 'localhost', platform)) return admin(request, response);
    sendError(response, 404, 'NOT_FOUND', "the admin API is served only on the platform's own hosts (BASE_DOMAIN, SERVER_HOSTS, localhost or an IP address)");
  };
}
