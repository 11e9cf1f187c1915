import {
  getArgumentValues,
  getNamedType,
  getNullableType,
  getOperationAST,
  getVariableValues,
  isInputObjectType,
  isListType,
  isScalarType,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DirectiveNode,
  type DocumentNode,
  type FieldNode,
  type GraphQLDirective,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { inputError, type SchemataError } from '../../../errors.js';
import { declaresVariables } from '../../../graphql/declares-variables.js';

export interface StringInputLimitsOptions {
  /**
   * The longest string any argument may hold, anywhere inside it (JSON
   * values and keys included), in UTF-16 code units. Fields have tighter
   * limits of their own; this one bounds what reaches them.
   * @default 10000
   */
  readonly maxStringLength?: number;
}

/**
 * Refuses, with BAD_USER_INPUT naming the argument path (`filter.environment`),
 * any string input that holds a NUL or is longer than `maxStringLength`.
 * PostgreSQL cannot store U+0000 in text or jsonb, so a NUL would otherwise
 * end as a masked "Unexpected error." after the transaction began.
 *
 * It checks the coerced argument values of every field and directive in the
 * document, the way execution will see them: literals and variables alike,
 * through nested input objects and lists, and into JSON scalars (reported at
 * the scalar: a JSON key is no field name). Fragments are definitions of the
 * document, so they are visited once each and never followed. Runs before
 * the tenant transaction, so a refusal costs no SQL.
 */
export function useStringInputLimits(options: StringInputLimitsOptions = {}): Plugin {
  const max = options.maxStringLength ?? 10_000;
  // Yoga reuses the parsed document of a repeated query, so each is walked for its arguments once.
  const sitesOf = new WeakMap<DocumentNode, readonly ArgumentSite[]>();
  // Documents without variables: the verdict per operation, found once.
  const verdicts = new WeakMap<DocumentNode, Map<string | null | undefined, SchemataError | undefined>>();
  return {
    onExecute({ args }) {
      const fixed = !declaresVariables(args.document);
      const known = fixed ? verdicts.get(args.document) : undefined;
      if (known?.has(args.operationName)) {
        const problem = known.get(args.operationName);
        if (problem) throw problem;
        return;
      }
      let sites = sitesOf.get(args.document);
      if (!sites) sitesOf.set(args.document, (sites = argumentSites(args.schema, args.document)));
      const problem = sites.length === 0 ? undefined : findBadString(args.schema, args.document, args.operationName, args.variableValues, sites, max);
      if (fixed) verdicts.set(args.document, (known ?? new Map()).set(args.operationName, problem));
      if (problem) throw problem;
    },
  };
}

interface ArgumentSite {
  readonly definition: GraphQLField<unknown, unknown> | GraphQLDirective;
  readonly node: FieldNode | DirectiveNode;
}

/** Every field and directive in the document that is given arguments, with its definition. */
function argumentSites(schema: GraphQLSchema, document: DocumentNode): ArgumentSite[] {
  const typeInfo = new TypeInfo(schema);
  const sites: ArgumentSite[] = [];
  const add = (definition: ArgumentSite['definition'] | null | undefined, node: ArgumentSite['node']) => {
    if (definition && node.arguments?.length) sites.push({ definition, node });
  };
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field: (node) => add(typeInfo.getFieldDef(), node),
      Directive: (node) => add(typeInfo.getDirective(), node),
    }),
  );
  return sites;
}

function findBadString(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Readonly<Record<string, unknown>> | null | undefined,
  sites: readonly ArgumentSite[],
  max: number,
): SchemataError | undefined {
  const operation = getOperationAST(document, operationName);
  if (!operation) return undefined;
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {});
  // Execution refuses invalid variables itself, before any resolver.
  if (coerced.errors) return undefined;
  for (const { definition, node } of sites) {
    let values: Record<string, unknown>;
    try {
      values = getArgumentValues(definition, node, coerced.coerced);
    } catch {
      // Only in an operation other than the one that runs (its variables are absent).
      continue;
    }
    for (const argument of definition.args) {
      const problem = argument.name in values ? checkValue(argument.type, values[argument.name], argument.name, max) : undefined;
      if (problem) return problem;
    }
  }
  return undefined;
}

/** Walks one coerced value along its input type; `path` names it as a client wrote it. */
function checkValue(type: GraphQLInputType, value: unknown, path: string, max: number): SchemataError | undefined {
  if (value == null) return undefined;
  const nullable = getNullableType(type);
  if (isListType(nullable) && Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const problem = checkValue(nullable.ofType as GraphQLInputType, item, `${path}[${index}]`, max);
      if (problem) return problem;
    }
    return undefined;
  }
  if (isInputObjectType(nullable)) {
    const fields = nullable.getFields();
    for (const [name, field] of Object.entries(value as Record<string, unknown>)) {
      const problem = fields[name] && checkValue(fields[name].type, field, `${path}.${name}`, max);
      if (problem) return problem;
    }
    return undefined;
  }
  if (isScalarType(getNamedType(nullable))) {
    const problem = typeof value === 'string' ? stringProblem(value, max) : deepStringProblem(value, max);
    return problem ? inputError(path, problem) : undefined;
  }
  return undefined;
}

function stringProblem(text: string, max: number): string | undefined {
  if (text.length > max) return `must be at most ${max} characters long`;
  if (text.includes('\u0000')) return 'must not contain NUL characters (U+0000)';
  return undefined;
}

/** The strings and keys inside a JSON scalar's value, without recursion (variables may nest deeply). */
function deepStringProblem(value: unknown, max: number): string | undefined {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next === 'string') {
      const problem = stringProblem(next, max);
      if (problem) return `a string inside ${problem}`;
    } else if (Array.isArray(next)) {
      pending.push(...next);
    } else if (isPlainObject(next)) {
      for (const [key, item] of Object.entries(next)) {
        const problem = stringProblem(key, max);
        if (problem) return `a key inside ${problem}`;
        pending.push(item);
      }
    }
  }
  return undefined;
}

/** JSON objects only: graphql-scalars builds literals with a null prototype; a Date or a URL is a scalar's own value. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === null || prototype === Object.prototype;
}
