import { getOperationAST, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { AdminOperationLog } from '../../../graphql/admin/admin-operation-log.js';
import type { AdminContext } from '../../../graphql/admin/context.js';
import type { Logger } from '../../observability/logger.js';

export interface AdminAuditLogOptions {
  readonly logger: Logger;
  /** Also kept here, for the console's log page. */
  readonly operations?: AdminOperationLog;
}

/**
 * One log line per admin operation, naming the operator from the token's
 * subject, the operation and its root fields with their arguments (slugs,
 * plans; the admin API takes no secrets), and the error codes if any: who
 * suspended or purged which tenant, and when.
 */
export function useAdminAuditLog(options: AdminAuditLogOptions): Plugin<AdminContext> {
  return {
    onExecute({ args }) {
      const context = args.contextValue as AdminContext;
      const operation = getOperationAST(args.document as DocumentNode, args.operationName);
      const fields = operation?.selectionSet.selections.flatMap((selection) => (selection.kind === 'Field' ? [selection.name.value] : [])) ?? [];
      return {
        onExecuteDone({ result }) {
          const errors = 'errors' in result ? result.errors : undefined;
          const errorCodes = errors?.map((e) => String(e.extensions?.code ?? (e.originalError as { code?: string } | undefined)?.code ?? 'ERROR')) ?? [];
          const name = `${operation?.operation ?? 'unknown'} ${operation?.name?.value ?? '(anonymous)'}`;
          options.logger.info(
            {
              admin: context.admin?.subject,
              operation: name,
              fields,
              // Not "variables": the shared logger censors those (tenant variables can hold passwords).
              args: args.variableValues,
              ...(errorCodes.length && { errorCodes }),
            },
            'admin operation',
          );
          // The schema read GraphiQL sends without a token (outside production) is no operator's action: anyone could flood the page's list with it.
          if (context.admin) options.operations?.add({ at: new Date(), admin: context.admin.subject, operation: name, fields, args: args.variableValues ?? {}, errorCodes });
        },
      };
    },
  };
}
