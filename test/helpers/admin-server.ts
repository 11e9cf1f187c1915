import { findPlatformSecret } from '../../src/auth/platform-auth.repository.js';
import { issuePlatformToken } from '../../src/auth/platform-token.js';
import { loadMasterKeys, type MasterKeys } from '../../src/control/settings/settings-cipher.js';
import type { Config } from '../../src/config.js';
import type { Database } from '../../src/db/database.js';
import { createAdminYoga } from '../../src/server/admin-yoga.js';
import { createLogger, type Logger } from '../../src/server/observability/logger.js';
import type { GraphQLResponse } from './test-server.js';
import { tenantTemplate, testConfig } from './test-database.js';

export interface AdminTestServer {
  /** POSTs to /admin/graphql in-process; `token` defaults to a fresh platform-admin token, null sends none. */
  admin<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, init?: { token?: string | null }): Promise<GraphQLResponse<T>>;
  platformToken(options?: { scope?: string; ttlSeconds?: number }): Promise<string>;
  fetch(url: string, init?: RequestInit): Promise<Response>;
  /** The admin Yoga itself, to serve over a real socket. */
  readonly yoga: ReturnType<typeof createAdminYoga>;
}

export async function startAdminTestServer(
  database: Database,
  options: { logger?: Logger; production?: boolean; settingsKeys?: MasterKeys; config?: Partial<Config> } = {},
): Promise<AdminTestServer> {
  const config = testConfig({ production: options.production ?? false, ...options.config });
  const logger = options.logger ?? createLogger('silent');
  const settingsKeys = options.settingsKeys ?? loadMasterKeys(config);
  const yoga = createAdminYoga({ services: { config, database, logger, settingsKeys }, template: await tenantTemplate(), logError: () => undefined });
  const platformToken = async (options: { scope?: string; ttlSeconds?: number } = {}) => {
    const secret = await findPlatformSecret(database.control);
    return (await issuePlatformToken(secret!, 'test-operator', config, { ttlSeconds: options.ttlSeconds ?? 300, scope: options.scope })).token;
  };
  return {
    platformToken,
    async admin<T>(query: string, variables?: Record<string, unknown>, init: { token?: string | null } = {}) {
      const token = init.token === undefined ? await platformToken() : init.token;
      const response = await yoga.fetch('http://yoga/admin/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
        body: JSON.stringify({ query, variables }),
      });
      const text = await response.text();
      return { status: response.status, body: JSON.parse(text), text } as GraphQLResponse<T>;
    },
    fetch: async (url, init = {}) => yoga.fetch(new URL(url), init),
    yoga,
  };
}
