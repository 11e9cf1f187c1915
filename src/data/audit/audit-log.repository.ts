import type { Selectable } from 'kysely';
import type { AuditLogTable } from '../../db/tenant-database.js';
import type { TenantDb } from '../../tenancy/tenant-transaction.js';
import { countRows, pageRows, type KeysetPage, type PageRow } from '../keyset-page.js';

export interface AuditEntry {
  readonly action: string;
  readonly entityType: string;
  readonly entityId: string | null;
  readonly actorId?: string | null;
  readonly details?: Record<string, unknown>;
}

/** Always called inside the same transaction as the change it records. */
export async function insertAuditEntry(db: TenantDb, entry: AuditEntry): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      action: entry.action,
      entity_type: entry.entityType,
      entity_id: entry.entityId,
      actor_id: entry.actorId ?? null,
      details: JSON.stringify(entry.details ?? {}),
    })
    .execute();
}

export type AuditLogEntry = Selectable<AuditLogTable>;

export interface AuditLogFilter {
  readonly action?: string | undefined;
  readonly entityType?: string | undefined;
}

function filtered(db: TenantDb, filter: AuditLogFilter) {
  let query = db.selectFrom('audit_log');
  if (filter.action) query = query.where('action', '=', filter.action);
  if (filter.entityType) query = query.where('entity_type', '=', filter.entityType);
  return query;
}

export async function pageAuditLog(db: TenantDb, filter: AuditLogFilter, page: KeysetPage, withCount = false): Promise<PageRow<AuditLogEntry>[]> {
  return (await pageRows(filtered(db, filter), page, withCount).execute()) as PageRow<AuditLogEntry>[];
}

export function countAuditLog(db: TenantDb, filter: AuditLogFilter): Promise<number> {
  return countRows(filtered(db, filter));
}
