import { Readable } from 'node:stream';
import type { Plugin } from 'graphql-yoga';
import { authenticatePlatformAdmin } from '../../../auth/authenticate-platform-admin.js';
import type { PlatformTokenSettings } from '../../../auth/platform-token.js';
import { exportTenant } from '../../../control/transfer/tenant-export.service.js';
import type { Database } from '../../../db/database.js';
import { ERROR_HTTP_STATUS, isSchemataError } from '../../../errors.js';
import { isDatabaseUnavailable, type ErrorLogger } from '../../../graphql/errors.js';

export interface TenantExportDownloadOptions {
  readonly database: Database;
  readonly config: PlatformTokenSettings;
  /** Where unexpected errors go; the client gets a coded answer without internals. */
  readonly logError: ErrorLogger;
}

const EXPORT_PATH = /^\/admin\/tenants\/([^/]+)\/export$/;

/**
 * `GET /admin/tenants/<slug>/export` with a platform-admin token: the same
 * NDJSON as `npm run tenant -- export`, streamed as a download;
 * `?withoutCredentials=true` as `--without-credentials`. The token and
 * the slug are checked before the first byte, so refusals are plain JSON
 * errors with a code; the rows stream from one snapshot, and a client that
 * hangs up releases the connection.
 */
export function useTenantExportDownload(options: TenantExportDownloadOptions): Plugin {
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      const match = EXPORT_PATH.exec(url.pathname);
      if (!match) return;
      const refuse = (status: number, code: string, message: string, headers: Record<string, string> = {}) =>
        endResponse(
          new fetchAPI.Response(JSON.stringify({ errors: [{ message, extensions: { code } }] }), { status, headers: { 'content-type': 'application/json', ...headers } }),
        );
      if (request.method !== 'GET') return refuse(405, 'METHOD_NOT_ALLOWED', 'use GET to download an export');
      try {
        await authenticatePlatformAdmin(options.database, request.headers.get('authorization'), options.config);
        let slug: string;
        try {
          slug = decodeURIComponent(match[1]!);
        } catch {
          return refuse(400, 'INVALID_SLUG', 'the tenant slug in the path is not valid URL encoding');
        }
        const without = url.searchParams.get('withoutCredentials') ?? 'false';
        if (without !== 'true' && without !== 'false') return refuse(400, 'BAD_USER_INPUT', 'withoutCredentials must be true or false');
        const exported = await exportTenant(options.database, slug, { withoutCredentials: without === 'true' });
        const filename = `${exported.tenant.slug}-${new Date().toISOString().slice(0, 10)}.ndjson`;
        endResponse(
          new fetchAPI.Response(Readable.toWeb(Readable.from(exported.lines)) as ReadableStream, {
            headers: { 'content-type': 'application/x-ndjson; charset=utf-8', 'content-disposition': `attachment; filename="${filename}"` },
          }),
        );
      } catch (error) {
        // This hook runs outside Yoga's error mask: answer every failure here, never with a stack.
        if (isSchemataError(error)) return refuse(ERROR_HTTP_STATUS[error.code], error.code, error.message);
        options.logError(error);
        if (isDatabaseUnavailable(error)) {
          return refuse(503, 'DATABASE_UNAVAILABLE', 'the database is unavailable; retry in a moment', { 'retry-after': '1' });
        }
        return refuse(500, 'INTERNAL_SERVER_ERROR', 'Unexpected error.');
      }
    },
  };
}
