import { useGenericAuth } from '@envelop/generic-auth';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { renderGraphiQL } from './lazy-graphiql.js';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import pLimit from 'p-limit';
import { authenticatePlatformAdmin } from '../auth/authenticate-platform-admin.js';
import type { PlatformAdmin } from '../auth/platform-token.js';
import { AdminOperationLog } from '../graphql/admin/admin-operation-log.js';
import type { AdminContext } from '../graphql/admin/context.js';
import { adminSchema } from '../graphql/admin/schema/index.js';
import { createErrorMask, type ErrorLogger } from '../graphql/errors.js';
import { asksOnlyForTheSchema } from '../graphql/introspection-only.js';
import type { Template } from '../migrations/template.js';
import { useAdminAuditLog } from './plugins/admin/use-admin-audit-log.js';
import { useAdminConsole } from './plugins/admin/use-admin-console.js';
import { useQueryLimits } from './plugins/shared/use-query-limits.js';
import { useStrictUtf8 } from './plugins/shared/use-strict-utf8.js';
import { useStringInputLimits } from './plugins/shared/use-string-input-limits.js';
import { useTenantExportDownload } from './plugins/admin/use-tenant-export-download.js';
import type { AdminServices } from './services.js';

export interface AdminYogaOptions {
  /** The logger gets one line per admin operation, naming the operator. */
  readonly services: AdminServices;
  /** The tenant template: provisioning, restore and health compare against its head. */
  readonly template: Template;
  /** Where unexpected (masked) errors go. @default the logger, at error level */
  readonly logError?: ErrorLogger;
}

export const ADMIN_GRAPHQL_ENDPOINT = '/admin/graphql';

/** Per request; each report holds up to three pooled connections. */
const USAGE_REPORTS_AT_ONCE = 2;

const EXAMPLE_QUERY = `# Needs a platform-admin token: npm run token -- --platform-admin
# Put it in the Headers tab: { "Authorization": "Bearer <token>" }
query Fleet {
  fleet { total byStatus { value count } byPlan { value count } byTemplateVersion { value count } }
  tenants(first: 20) { slug name status plan templateVersion usage { storageBytes requestsToday behind } }
}
`;

/** The platform operators' API: its own schema, every operation behind a platform-admin token (the schema alone is open outside production). */
export function createAdminYoga(options: AdminYogaOptions): YogaServerInstance<Record<string, unknown>, AdminContext> {
  const { config, database, logger, settingsKeys } = options.services;
  const template = options.template;
  const logError = options.logError ?? ((error: unknown) => logger.error({ err: error }, 'unexpected admin error'));
  const operations = new AdminOperationLog();
  return createYoga<Record<string, unknown>, AdminContext>({
    schema: adminSchema,
    graphqlEndpoint: ADMIN_GRAPHQL_ENDPOINT,
    landingPage: false,
    batching: false,
    multipart: false,
    maxRequestBodySize: 100_000,
    cors: false,
    logging: false,
    maskedErrors: { maskError: createErrorMask(logError) },
    // No placeholder header: GraphiQL would send it with its first schema request and show that request's 401.
    graphiql: config.production ? false : { title: 'schemata admin', defaultQuery: EXAMPLE_QUERY },
    renderGraphiQL,
    context: () => ({ database, config, template, usageSlot: pLimit(USAGE_REPORTS_AT_ONCE), operations, settingsKeys }) as Partial<AdminContext> as AdminContext,
    plugins: [
      useStrictUtf8(),
      useStringInputLimits(),
      ...useQueryLimits({ maxDepth: 8 }),
      useCSRFPrevention({ requestHeaders: ['x-graphql-yoga-csrf'] }),
      // Every operation needs the token: resolveUserFn throws, so nothing executes without one. The one exception, outside
      // production: a request with no token that asks only for the schema, which GraphiQL sends as it loads, before a token
      // is pasted (the admin schema is admin-schema.graphql in the repository; production answers it to platform admins only).
      useGenericAuth<PlatformAdmin, AdminContext & { request: Request; params?: { query?: unknown } }, 'admin'>({
        mode: 'resolve-only',
        contextFieldName: 'admin',
        resolveUserFn: (context) => {
          const authorization = context.request.headers.get('authorization');
          if (!config.production && authorization === null && asksOnlyForTheSchema(context.params?.query)) return null;
          return authenticatePlatformAdmin(database, authorization, config);
        },
      }),
      useAdminConsole(),
      useTenantExportDownload({ database, config, logError }),
      useAdminAuditLog({ logger, operations }),
    ],
  });
}
