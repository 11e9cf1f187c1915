import type { TenantDb } from '../../tenancy/tenant-transaction.js';

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
