import { issueAccessToken } from '../../src/auth/access-token.js';
import { findTenantAuth } from '../../src/auth/tenant-auth.repository.js';
import type { TenantRegistry, TenantRegistryOptions } from '../../src/control/registry/tenant-registry.js';
import type { Config } from '../../src/config.js';
import type { Database, OpenDatabaseOptions } from '../../src/db/database.js';
import type { UserRole } from '../../src/db/tenant-database.js';
import { listen } from '../../src/server/http/http-server.js';
import { createServices, type ServiceOptions, type Services } from '../../src/server/services.js';
import { createSchemataYoga, type SchemataYogaOptions } from '../../src/server/yoga.js';
import { openTestDatabase, testConfig } from './test-database.js';

export interface GraphQLResponse<T = Record<string, unknown>> {
  readonly status: number;
  readonly body: { data?: T | null; errors?: { message: string; path?: string[]; extensions?: Record<string, unknown> }[] };
  readonly text: string;
}

export interface GraphQLInit {
  readonly url?: string;
  readonly headers?: Record<string, string>;
  /**
   * The bearer token: a role signs one for the tenant in X-Tenant-ID, a string
   * is sent as is, null sends none.
   * @default 'admin'
   */
  readonly as?: UserRole | { token: string } | null;
}

/**
 * What a test may set: the config, any service the composition root would
 * otherwise build, and the Yoga factory's own options.
 */
export type TestServerOverrides = Partial<Omit<ServiceOptions, 'registry'> & Omit<SchemataYogaOptions, 'services'> & { config: Config }>;

export interface TestServer {
  readonly database: Database;
  readonly services: Services;
  readonly registry: TenantRegistry;
  /** The handler itself, to serve over node:http where a test needs real sockets (client addresses). */
  readonly yoga: ReturnType<typeof createSchemataYoga>;
  /** POSTs to Yoga in-process (no port); `tenant` goes in X-Tenant-ID unless null. */
  graphql<T = Record<string, unknown>>(tenant: string | null, query: string, variables?: Record<string, unknown>, init?: GraphQLInit): Promise<GraphQLResponse<T>>;
  /** A fresh access token signed with the tenant's current key. */
  tokenFor(tenant: string, role: UserRole, subject?: string): Promise<string>;
  /** Any request, for bodies and methods `graphql` cannot express. */
  fetch(url: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export async function startTestServer(
  options: { databaseOptions?: OpenDatabaseOptions; yoga?: TestServerOverrides; database?: Database; registry?: TenantRegistryOptions } = {},
): Promise<TestServer> {
  const database = options.database ?? (await openTestDatabase(options.databaseOptions));
  const { config = testConfig(), tenantScope, responseCacheShareKey, logError = () => undefined, maxCost, statementLimits, ...overrides } = options.yoga ?? {};
  // Unlike production: no mail unless a test brings a mailer, no usage writes
  // in statement counts, and a log that holds only what requests wrote.
  const services = await createServices(config, database, { mailer: null, usage: null, ...overrides, registry: { onSyncChange: () => undefined, ...options.registry } });
  const { registry } = services;
  const yoga = createSchemataYoga({ services, tenantScope, responseCacheShareKey, logError, maxCost, statementLimits });

  const tokenFor = async (tenantRef: string, role: UserRole, subject = `test-${role}`): Promise<string> => {
    const tenant = (await registry.findBySlug(tenantRef)) ?? (await registry.findById(tenantRef));
    if (!tenant) throw new Error(`no tenant ${tenantRef}`);
    const auth = await findTenantAuth(database.control, tenant.id);
    const keys = { hmac: new TextEncoder().encode(auth!.hmac_secret), idp: undefined };
    return (await issueAccessToken(keys, { subject, role, tenantId: tenant.id }, config)).token;
  };

  return {
    database,
    services,
    registry,
    yoga,
    tokenFor,
    async graphql<T>(tenant: string | null, query: string, variables?: Record<string, unknown>, init: GraphQLInit = {}) {
      const as = init.as === undefined ? 'admin' : init.as;
      let token: string | undefined;
      if (as !== null && typeof as === 'object') token = as.token;
      else if (as !== null && tenant !== null) token = await tokenFor(tenant, as).catch(() => undefined);
      const response = await yoga.fetch(init.url ?? 'http://yoga/graphql', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(tenant !== null && { 'x-tenant-id': tenant }),
          ...(token && { authorization: `Bearer ${token}` }),
          ...init.headers,
        },
        body: JSON.stringify({ query, variables }),
      });
      const text = await response.text();
      return { status: response.status, body: JSON.parse(text), text } as GraphQLResponse<T>;
    },
    fetch: async (url, init = {}) => yoga.fetch(new URL(url), init),
    async close() {
      await services.close();
      if (!options.database) await database.close();
    },
  };
}

export interface HttpTestClient {
  /** POSTs over a real socket from 127.0.0.1; `from` is sent as X-Forwarded-For, `token` as the bearer token. */
  graphql<T = Record<string, unknown>>(
    tenant: string,
    query: string,
    variables?: Record<string, unknown>,
    init?: { from?: string; token?: string },
  ): Promise<GraphQLResponse<T> & { headers: Headers }>;
  close(): Promise<void>;
}

/** Serves the server's Yoga over node:http, for tests about client addresses (which in-process fetches do not have). */
export async function serveOverHttp(server: TestServer): Promise<HttpTestClient> {
  const running = await listen(server.yoga, 0);
  return {
    async graphql<T>(tenant: string, query: string, variables?: Record<string, unknown>, init: { from?: string; token?: string } = {}) {
      const response = await fetch(`http://127.0.0.1:${running.port}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-tenant-id': tenant,
          ...(init.from && { 'x-forwarded-for': init.from }),
          ...(init.token && { authorization: `Bearer ${init.token}` }),
        },
        body: JSON.stringify({ query, variables }),
      });
      const text = await response.text();
      return { status: response.status, headers: response.headers, body: JSON.parse(text), text } as GraphQLResponse<T> & { headers: Headers };
    },
    close: () => running.close({ graceMs: 0, timeoutMs: 1_000 }),
  };
}
