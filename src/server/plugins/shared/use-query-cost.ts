import { getNamedType, GraphQLError, isLeafType, isObjectType, validate, type DocumentNode, type GraphQLNamedType, type GraphQLSchema } from 'graphql';
import { createComplexityRule, type ComplexityEstimator } from 'graphql-query-complexity';
import type { Plugin } from 'graphql-yoga';
import { pageSizeOf } from '../../../graphql/connection.js';
import { SchemataError } from '../../../errors.js';
import { declaresVariables } from '../../../graphql/declares-variables.js';

export interface QueryCostOptions {
  /**
   * The most objects (rows, loaded nodes, and one per list fetched) an
   * operation may ask for, with page sizes taken from its variables and the
   * default page size where it gives none.
   * @default 2000
   */
  readonly maxCost?: number;
}

/** Fields beyond this many make the estimate itself expensive: refused outright. */
const MAX_QUERY_NODES = 5_000;

const isConnection = (type: GraphQLNamedType) => isObjectType(type) && 'edges' in type.getFields() && 'pageInfo' in type.getFields();
const isEdge = (type: GraphQLNamedType) => isObjectType(type) && 'node' in type.getFields() && 'cursor' in type.getFields();

/**
 * What an operation costs, in objects it makes the server produce. A
 * connection costs one list fetch plus its page size times what each edge
 * costs; every other object field costs one plus its selection; edges and
 * PageInfo are free (they come with the row or the page), and so are scalars
 * unless their field says otherwise (`extensions: { cost }`, for big values).
 */
const objectsProduced: ComplexityEstimator = ({ field, args, childComplexity }) => {
  const type = getNamedType(field.type);
  if (isLeafType(type)) return typeof field.extensions.cost === 'number' ? field.extensions.cost : 0;
  if (isConnection(type)) return 1 + pageSizeOf(args) * childComplexity;
  if (isEdge(type) || type.name === 'PageInfo') return childComplexity;
  return 1 + childComplexity;
};

/**
 * Refuses, before any SQL, an operation whose cost exceeds `maxCost`
 * (COST_LIMIT). It runs at execution, not validation, because Yoga caches
 * validation by document while the cost depends on the variables
 * (`first: $n`). A document without variables always costs the same, so its
 * cost is remembered.
 */
export function useQueryCost(options: QueryCostOptions = {}): Plugin {
  const maxCost = options.maxCost ?? 2_000;
  const fixedCost = new WeakMap<DocumentNode, Map<string | undefined, number>>();
  const costOf = (schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | undefined, operationName: string | undefined): number => {
    const fixed = !declaresVariables(document);
    const remembered = fixed ? fixedCost.get(document)?.get(operationName) : undefined;
    if (remembered !== undefined) return remembered;
    const cost = measure(schema, document, variables, operationName);
    if (fixed) fixedCost.set(document, (fixedCost.get(document) ?? new Map()).set(operationName, cost));
    return cost;
  };
  return {
    onExecute({ args }) {
      const cost = costOf(args.schema, args.document, args.variableValues ?? undefined, args.operationName ?? undefined);
      if (cost > maxCost) throw new SchemataError('COST_LIMIT', 'the query is too expensive: ask for smaller pages or fewer nested lists');
      if (typeof args.contextValue === 'object' && args.contextValue !== null) costs.set(args.contextValue, cost);
    },
  };
}

/**
 * graphql-query-complexity's rule, run on its own so its two failures stay
 * apart: variables that do not coerce are reported (cost 0 here, since
 * execution refuses them, naming each), while a document with more fields
 * than MAX_QUERY_NODES throws (refused as infinitely expensive).
 */
function measure(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | undefined, operationName: string | undefined): number {
  let cost = 0;
  const rule = createComplexityRule({
    maximumComplexity: Number.POSITIVE_INFINITY,
    variables,
    operationName,
    estimators: [objectsProduced],
    maxQueryNodes: MAX_QUERY_NODES,
    onComplete: (complexity) => (cost = complexity),
  });
  try {
    return validate(schema, document, [rule]).length > 0 ? 0 : cost;
  } catch (error) {
    if (error instanceof GraphQLError) return Number.POSITIVE_INFINITY;
    throw error;
  }
}

const costs = new WeakMap<object, number>();

/** The cost useQueryCost found for the operation running with this context, for plugins that schedule by it. */
export function operationCost(context: object): number | undefined {
  return costs.get(context);
}
