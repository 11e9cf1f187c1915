import { getOperationAST, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
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
 * "[redacted]"; such a value written inline in the document is never logged,
 * as documents are not.
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
              args: redacted(args.variableValues, sensitiveVariables(args.schema, operation)),
              ...(errorCodes.length && { errorCodes }),
            },
            'admin operation',
          );
          // The schema read GraphiQL sends without a token (outside production) is no operator's action: anyone could flood the page's list with it.
          if (context.admin) options.operations?.add({ at: new Date(), admin: context.admin.subject, operation: name, fields, args: redacted(args.variableValues, sensitiveVariables(args.schema, operation)) ?? {}, errorCodes });
        },
      };
    },
  };
}

/** Names of the variables the operation binds to sensitive arguments of its root fields. */
function sensitiveVariables(schema: GraphQLSchema, operation: OperationDefinitionNode | null | undefined): Set<string> {
  const names = new Set<string>();
  const root = operation && schema.getRootType(operation.operation);
  if (!root) return names;
  const fields = root.getFields();
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== 'Field') continue;
    const field = fields[selection.name.value];
    for (const argument of selection.arguments ?? []) {
      const definition = field?.args.find((a) => a.name === argument.name.value);
      if (definition?.extensions.sensitive === true && argument.value.kind === 'Variable') names.add(argument.value.name.value);
    }
  }
  return names;
}

function redacted(variables: Readonly<Record<string, unknown>> | null | undefined, sensitive: ReadonlySet<string>): Record<string, unknown> | undefined {
  if (!variables) return undefined;
  return Object.fromEntries(Object.entries(variables).map(([name, value]) => [name, sensitive.has(name) ? '[redacted]' : value]));
}
