import type { Selectable } from 'kysely';
import type { AuditLogTable } from '../../db/tenant-database.js';
import type { TenantDb } from '../../tenancy/tenant-transaction.js';
import { defineList } from '../tenant-list.js';

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

export const auditLogList = defineList({
  table: 'audit_log',
  from: (db) => db.selectFrom('audit_log'),
  filter: (query, { action, entityType }: AuditLogFilter) => {
    const q = action ? query.where('action', '=', action) : query;
    return entityType ? q.where('entity_type', '=', entityType) : q;
  },
});
