import { getOperationAST, TypeInfo, visit, visitWithTypeInfo, type DocumentNode, type GraphQLSchema } from 'graphql';
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
 * plans), and the error codes if any: who suspended or purged which tenant,
 * and when. A variable bound to an argument the schema marks
 * `extensions: { sensitive: true }` (a setting's value) is recorded as
 * "[redacted]", wherever the document uses it (fragments included); such a
 * value written inline in the document is never logged, as documents are not.
 */
export function useAdminAuditLog(options: AdminAuditLogOptions): Plugin<AdminContext> {
  return {
    onExecute({ args }) {
      const context = args.contextValue as AdminContext;
      const operation = getOperationAST(args.document as DocumentNode, args.operationName);
      const fields = operation?.selectionSet.selections.flatMap((selection) => (selection.kind === 'Field' ? [selection.name.value] : [])) ?? [];
      const sensitive = sensitiveVariables(args.schema, args.document as DocumentNode);
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
              args: redacted(args.variableValues, sensitive),
              ...(errorCodes.length && { errorCodes }),
            },
            'admin operation',
          );
          // The schema read GraphiQL sends without a token (outside production) is no operator's action: anyone could flood the page's list with it.
          if (context.admin) options.operations?.add({ at: new Date(), admin: context.admin.subject, operation: name, fields, args: redacted(args.variableValues, sensitive) ?? {}, errorCodes });
        },
      };
    },
  };
}

/**
 * Names of the variables the document binds to sensitive arguments anywhere:
 * root fields, nested fields and fragments alike (a spread must not carry a
 * value past the redaction).
 */
function sensitiveVariables(schema: GraphQLSchema, document: DocumentNode): Set<string> {
  const names = new Set<string>();
  const typeInfo = new TypeInfo(schema);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Argument(node) {
        if (typeInfo.getArgument()?.extensions.sensitive !== true) return;
        visit(node.value, { Variable: (variable) => void names.add(variable.name.value) });
      },
    }),
  );
  return names;
}

function redacted(variables: Readonly<Record<string, unknown>> | null | undefined, sensitive: ReadonlySet<string>): Record<string, unknown> | undefined {
  if (!variables) return undefined;
  return Object.fromEntries(Object.entries(variables).map(([name, value]) => [name, sensitive.has(name) ? '[redacted]' : value]));
}
