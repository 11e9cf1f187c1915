import { auditLogList, type AuditLogEntry } from '../../data/audit/audit-log.repository.js';
import { boundedText } from '../../data/validation.js';
import { builder, CreatedOrder } from '../builder.js';
import { loadChangedRow } from '../change-loads.js';
import { keysetConnection } from '../connection.js';
import type { RowChange } from '../../realtime/change-stream.js';

const AuditLogEntryRef = builder.objectRef<AuditLogEntry>('AuditLogEntry').implement({
  description: 'One change, written in the same transaction as the change itself.',
  fields: (t) => ({
    id: t.field({ type: 'UUID', resolve: (e) => e.id }),
    action: t.exposeString('action'),
    entityType: t.string({ resolve: (e) => e.entity_type }),
    entityId: t.field({ type: 'UUID', nullable: true, resolve: (e) => e.entity_id }),
    actorId: t.field({ type: 'UUID', nullable: true, resolve: (e) => e.actor_id }),
    details: t.field({ type: 'JSONObject', resolve: (e) => e.details }),
    createdAt: t.field({ type: 'DateTime', resolve: (e) => e.created_at }),
  }),
});

const AuditLogFilter = builder.inputType('AuditLogFilter', {
  fields: (t) => ({ action: t.string(), entityType: t.string() }),
});

builder.queryField('auditLog', (t) =>
  t.connection({
    type: AuditLogEntryRef,
    authScopes: { admin: true },
    args: { filter: t.arg({ type: AuditLogFilter }), orderBy: t.arg({ type: CreatedOrder, defaultValue: 'newest' }) },
    resolve: (_root, args, context, info) => {
      const filter = {
        action: args.filter?.action == null ? undefined : boundedText('filter.action', args.filter.action, 100),
        entityType: args.filter?.entityType == null ? undefined : boundedText('filter.entityType', args.filter.entityType, 100),
      };
      return keysetConnection(auditLogList, { context, info, args, filter });
    },
  }),
);

builder.subscriptionField('auditLogAppended', (t) =>
  t.field({
    type: AuditLogEntryRef,
    nullable: true,
    authScopes: { admin: true },
    description: 'Each audit entry as it is committed.',
    subscribe: (_root, _args, context) => context.rowChanges(['audit_log']),
    resolve: (change: RowChange, _args, context) => loadChangedRow(context, 'audit_log', change.id, auditLogList.findByIds),
  }),
);
