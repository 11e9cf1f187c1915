import { useGenericAuth } from '@envelop/generic-auth';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { renderGraphiQL } from './lazy-graphiql.js';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { decodeJwt } from 'jose';
import { authenticate } from '../auth/authenticate.js';
import type { IdentityDeps } from '../data/identity/identity.service.js';
import { SchemataError } from '../errors.js';
import type { Plan } from '../control/plans/plan.repository.js';
import { readStorageBytes } from '../data/stats/tenant-storage.repository.js';
import type { GraphQLContext } from '../graphql/context.js';
import { listPlainSettings } from '../control/settings/tenant-settings.repository.js';
import { createErrorMask, type ErrorLogger } from '../graphql/errors.js';
import { schema } from '../graphql/schema/index.js';
import type { StatementLimits } from '../tenancy/statement-budget.js';
import { NO_TRANSACTION, type TenantScope } from '../tenancy/tenant-transaction.js';
import { resolveTenant, tenantSources } from '../tenancy/resolve-tenant.js';
import { clientAddress, isLocalRequest } from './http/client-address.js';
import { useAnonymousGuard } from './plugins/tenant/use-anonymous-guard.js';
import { useIntrospectionAuth } from './plugins/tenant/use-introspection-auth.js';
import { useQueryLimits } from './plugins/shared/use-query-limits.js';
import { rateLimitedError, useRateLimit } from './plugins/tenant/use-rate-limit.js';
import { graphiqlDemoToken, GRAPHIQL_DEMO_TENANT } from './graphiql-demo-token.js';
import { useServiceEndpoints } from './plugins/shared/use-service-endpoints.js';
import { useStrictUtf8 } from './plugins/shared/use-strict-utf8.js';
import { useStringInputLimits } from './plugins/shared/use-string-input-limits.js';
import { useTenantResponseCache, type TenantResponseCacheOptions } from './plugins/tenant/use-tenant-response-cache.js';
import { useRequestTelemetry } from './plugins/tenant/use-request-telemetry.js';
import { useCompiledExecution } from './plugins/tenant/use-compiled-execution.js';
import { useSubscriptionEvents } from './plugins/tenant/use-subscription-events.js';
import { useRequestTracing } from './plugins/tenant/use-request-tracing.js';
import { useTrustedDocuments } from './plugins/tenant/use-trusted-documents.js';
import { useTenantTransaction } from './plugins/tenant/use-tenant-transaction.js';
import type { Services } from './services.js';

export interface SchemataYogaOptions {
  /** Built once per process by createServices (services.ts); this factory only assembles. */
  readonly services: Services;
  /** Tests substitute a deliberately leaky scope to prove the isolation fuzz can see leaks. */
  readonly tenantScope?: TenantScope;
  /** Tests substitute a deliberately shared key to prove the cache-isolation test can see leaks. @default tenant, its generation, subject and role */
  readonly responseCacheShareKey?: TenantResponseCacheOptions['shareKey'];
  /** Where unexpected (masked) errors go. @default the logger, at error level */
  readonly logError?: ErrorLogger;
  /** The most objects an operation may ask for (page sizes from its variables). @default 2000 */
  readonly maxCost?: number;
  /** The ceiling on statements, rows and bytes one operation reads. @default DEFAULT_STATEMENT_LIMITS */
  readonly statementLimits?: StatementLimits;
}

/** Request bodies above this are refused with 413 before they are parsed. */
export const MAX_REQUEST_BODY_BYTES = 1_000_000;

/** The custom header CSRF prevention asks of a request no browser would preflight (a GET, a form post). */
const CSRF_HEADER = 'x-graphql-yoga-csrf';

/** Serves `/graphql` and `/t/<slug>/graphql` (the optional group in the URL pattern). */
export const GRAPHQL_ENDPOINT = '{/t/:slug}?/graphql';

const EXAMPLE_QUERY = `# The 20 newest active deployments of this tenant, with their project.
query NewestActiveDeployments {
  tenant { slug name plan }
  deployments(first: 20, filter: { status: [ACTIVE] }) {
    totalCount
    edges {
      node { id status environment url createdAt project { name } }
    }
    pageInfo { hasNextPage endCursor }
  }
}
`;

export function createSchemataYoga(options: SchemataYogaOptions): YogaServerInstance<Record<string, unknown>, GraphQLContext> {
  const { config, database, registry, logger, metrics, keys, verifiedTokens: verified, plans, storageMeter: storage } = options.services;
  const { loginThrottle: throttle, resetMails, mailer, rowChanges } = options.services;
  const logError = options.logError ?? ((error: unknown) => logger.error({ err: error }, 'unexpected error'));
  const tracing = options.services.tracing && useRequestTracing({ tracer: options.services.tracing.tracer });
  const maskError = createErrorMask(logError);
  const identityFor = async (tenant: GraphQLContext['tenant'], plan: Plan, clientAddress: string): Promise<IdentityDeps> => {
    const tenantKeys = await keys.forTenant(tenant.id);
    if (!tenantKeys) throw new SchemataError('INVALID_TOKEN', 'this tenant has no signing keys');
    return { tenant, plan, keys: tenantKeys, settings: config, throttle, resetMails, mailer, clientAddress, reportError: logError };
  };
  return createYoga<Record<string, unknown>, GraphQLContext>({
    schema,
    graphqlEndpoint: GRAPHQL_ENDPOINT,
    landingPage: false,
    batching: false,
    multipart: false,
    maxRequestBodySize: MAX_REQUEST_BODY_BYTES,
    // Yoga's default reflects any origin with credentials; only listed origins get CORS headers.
    cors: config.corsOrigins.length > 0 ? { origin: [...config.corsOrigins], credentials: true, methods: ['GET', 'POST', 'OPTIONS'] } : false,
    // Expected errors are answers, not incidents; the mask logs the unexpected ones.
    logging: false,
    maskedErrors: { maskError },
    graphiql: config.production
      ? false
      : async (request, serverContext) => {
          const sources = tenantSources(request, config);
          const named = sources.path ?? sources.subdomain ?? sources.domain;
          // For a developer at this machine only: a server left without NODE_ENV=production and reachable by others hands none out.
          const demo = (named === undefined || named === GRAPHIQL_DEMO_TENANT) && isLocalRequest(serverContext);
          const token = demo ? await graphiqlDemoToken(options.services) : undefined;
          // A tenant named by path or subdomain needs no header; one that disagreed would get a 400.
          const headers = { ...(named === undefined && { 'X-Tenant-ID': GRAPHIQL_DEMO_TENANT }), ...(token && { Authorization: `Bearer ${token}` }) };
          return {
            title: 'schemata',
            endpoint: new URL(request.url).pathname,
            defaultQuery: EXAMPLE_QUERY,
            headers: Object.keys(headers).length > 0 ? JSON.stringify(headers, null, 2) : undefined,
            // GraphiQL runs a subscription as an SSE GET, which CSRF prevention refuses without the header; the page is our own origin, so it may send it.
            additionalHeaders: { [CSRF_HEADER]: 'graphiql' },
          };
        },
    renderGraphiQL,
    context: async ({ request, ...serverContext }): Promise<GraphQLContext> => {
      const address = clientAddress(serverContext, config.trustProxy);
      const sources = tenantSources(request, config);
      const tenant = await resolveTenant(sources, registry, address);
      const plan = await plans.forTenant(tenant);
      let identity: Promise<IdentityDeps> | undefined;
      // One measurement per request, taken by its first storage check, which
      // runs before the first write: Citus refuses size functions in a
      // transaction that has modified a shard.
      let storageBytes: Promise<number> | undefined;
      // What this operation counted against hourly limits, given back if it rolls back.
      const consumed: ('deploymentsPerHour' | 'workflowsPerHour')[] = [];
      return {
        tenant,
        plan,
        db: NO_TRANSACTION,
        clientAddress: address,
        currentUser: null,
        identity: () => (identity ??= identityFor(tenant, plan, address)),
        plainSettings: () => listPlainSettings(database.control, tenant.id),
        storageBytes: (db) => (storageBytes ??= storage.bytes(tenant.id, () => readStorageBytes(db, database))),
        consumeResource: async (limit) => {
          const max = plan[limit];
          if (max === null) return;
          const decision = await options.services.rateLimiter.consumeResource(tenant, limit, max);
          consumed.push(limit);
          if (!decision.allowed) throw rateLimitedError(decision, tenant.slug);
        },
        refundResources: async () => {
          const given = consumed.splice(0);
          await Promise.all(given.map((limit) => options.services.rateLimiter.refundResource(tenant, limit)));
        },
        rowChanges: (tables) => {
          const authorization = request.headers.get('authorization');
          return rowChanges.open({
            tenant,
            plan,
            tables,
            expiresAtMs: tokenExpiresAt(authorization),
            // The same resolution and verification as at connect, with what the registry now says.
            recheck: async () => {
              const now = await resolveTenant(sources, registry, address);
              if (now.id !== tenant.id) throw new SchemataError('TENANT_NOT_FOUND', 'the tenant this subscription was for is gone');
              await authenticate(authorization, now, { keys, registry, settings: config, verified, client: address });
            },
          });
        },
      };
    },
    // Yoga's liveness answer has an empty body: useServiceEndpoints answers /health instead, so Yoga's listens where nobody asks.
    healthCheckEndpoint: '/.yoga-liveness',
    plugins: [
      useRequestTelemetry({ logger, metrics, usage: options.services.usage ?? undefined }),
      ...(tracing ? [tracing.span] : []),
      useServiceEndpoints({
        readiness: options.services.readiness ? () => options.services.readiness!.state() : undefined,
        links: config.production ? undefined : DEVELOPMENT_LINKS,
      }),
      ...(options.services.trustedDocuments ? [useTrustedDocuments({ documents: options.services.trustedDocuments, only: config.trustedDocumentsOnly })] : []),
      useStrictUtf8(),
      // A form post or a plain GET cannot carry a mutation from another site: they must send a custom header.
      useCSRFPrevention({ requestHeaders: [CSRF_HEADER] }),
      // Resolves the user only; the schema's scopes decide what each role may do.
      useGenericAuth<NonNullable<GraphQLContext['currentUser']>, GraphQLContext & { request: Request }>({
        mode: 'resolve-only',
        contextFieldName: 'currentUser',
        resolveUserFn: (context) =>
          authenticate(context.request.headers.get('authorization'), context.tenant, { keys, registry, settings: config, verified, client: context.clientAddress }),
      }),
      useIntrospectionAuth({ requireAuthentication: config.production }),
      useAnonymousGuard(),
      // After the guard, so what a caller without a token may not run is refused before it is measured.
      useStringInputLimits(),
      ...useQueryLimits({ maxCost: options.maxCost }),
      useRateLimit({ limiter: options.services.rateLimiter }),
      // After everything that may refuse a request (hits count against the rate
      // limit too), before the transaction: a hit takes no pooled connection.
      ...(config.responseCacheTtlMs > 0
        ? [useTenantResponseCache({ ttlMs: config.responseCacheTtlMs, shareKey: options.responseCacheShareKey, registry, metrics })]
        : []),
      // Before the transaction, so the transaction wraps the compiled executor.
      ...useCompiledExecution(),
      // After compiled execution, which replaces the execute function: statements then run inside the request's span.
      ...(tracing ? [tracing.execution] : []),
      useTenantTransaction({
        database,
        scope: options.tenantScope,
        limits: options.statementLimits,
        heavy: options.services.heavyLane,
        concurrency: options.services.tenantConcurrency,
      }),
      useSubscriptionEvents({
        database,
        scope: options.tenantScope,
        limits: options.statementLimits,
        concurrency: options.services.tenantConcurrency,
        maskError,
      }),
    ],
  });
}

/** What `/` points a person to, outside production. */
const DEVELOPMENT_LINKS = {
  graphiql: '/graphql (send X-Tenant-ID or use /t/<slug>/graphql; a token in the Authorization header)',
  console: '/admin (the operators console; sign in with the link npm run -s token -- --platform-admin --link prints)',
  admin: '/admin/graphql (a platform-admin token: npm run -s token -- --platform-admin)',
  health: '/health',
  ready: '/ready',
  docs: 'README.md and ARCHITECTURE.md in the repository',
};

/** When the bearer token expires; verified by authenticate, read here only to end streams on time. */
function tokenExpiresAt(authorization: string | null): number | undefined {
  const token = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (!token) return undefined;
  try {
    const { exp } = decodeJwt(token);
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
