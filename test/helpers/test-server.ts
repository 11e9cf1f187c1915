import { issueAccessToken } from '../../src/auth/access-token.js';
import { findTenantAuth } from '../../src/auth/tenant-auth.repository.js';
import { TenantRegistry, type TenantRegistryOptions } from '../../src/control/tenant-registry.js';
import type { Database, OpenDatabaseOptions } from '../../src/db/database.js';
import type { UserRole } from '../../src/db/tenant-database.js';
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

export interface TestServer {
  readonly database: Database;
  readonly registry: TenantRegistry;
  /** POSTs to Yoga in-process (no port); `tenant` goes in X-Tenant-ID unless null. */
  graphql<T = Record<string, unknown>>(tenant: string | null, query: string, variables?: Record<string, unknown>, init?: GraphQLInit): Promise<GraphQLResponse<T>>;
  /** A fresh access token signed with the tenant's current key. */
  tokenFor(tenant: string, role: UserRole, subject?: string): Promise<string>;
  /** Any request, for bodies and methods `graphql` cannot express. */
  fetch(url: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export async function startTestServer(
  options: { databaseOptions?: OpenDatabaseOptions; yoga?: Partial<SchemataYogaOptions>; database?: Database; registry?: TenantRegistryOptions } = {},
): Promise<TestServer> {
  const database = options.database ?? (await openTestDatabase(options.databaseOptions));
  const registry = await TenantRegistry.start(database, options.registry);
  const config = testConfig();
  const yoga = createSchemataYoga({ config, database, registry, logError: () => undefined, ...options.yoga });

  const tokenFor = async (tenantRef: string, role: UserRole, subject = `test-${role}`): Promise<string> => {
    const tenant = (await registry.findBySlug(tenantRef)) ?? (await registry.findById(tenantRef));
    if (!tenant) throw new Error(`no tenant ${tenantRef}`);
    const auth = await findTenantAuth(database.control, tenant.id);
    const keys = { hmac: new TextEncoder().encode(auth!.hmac_secret), idp: undefined };
    return (await issueAccessToken(keys, { subject, role, tenantId: tenant.id }, config)).token;
  };

  return {
    database,
    registry,
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
      await registry.close();
      if (!options.database) await database.close();
    },
  };
}
