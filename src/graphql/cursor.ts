import type { KeysetCursor } from '../data/keyset-page.js';
import { isUuid } from '../db/identifiers.js';
import { SchemataError } from '../errors.js';

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/**
 * Opaque to clients: the list it belongs to, the tenant, and the row's exact
 * (created_at, id). The tenant is inside so a cursor taken from another tenant
 * is refused rather than silently positioning a page.
 */
export function encodeCursor(list: string, tenantId: string, row: { readonly cursor_ts: string; readonly id: string }): string {
  return Buffer.from(`v1|${list}|${tenantId}|${row.cursor_ts}|${row.id}`).toString('base64url');
}

export function decodeCursor(list: string, tenantId: string, field: string, cursor: string): KeysetCursor {
  const invalid = (problem: string): never => {
    throw new SchemataError('INVALID_CURSOR', `${field}: ${problem}; use a cursor returned by this list`, { field });
  };
  if (cursor.length > 200 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return invalid('not a cursor');
  const [version, cursorList, cursorTenant, createdAt, id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (version !== 'v1' || rest.length > 0 || !createdAt || !id || !TIMESTAMP.test(createdAt) || !isUuid(id)) return invalid('not a cursor');
  if (cursorList !== list) return invalid(`this cursor belongs to another list (${cursorList})`);
  if (cursorTenant !== tenantId) return invalid('this cursor belongs to another tenant');
  if (Number.isNaN(Date.parse(createdAt))) return invalid('not a cursor');
  return { createdAt, id };
}
