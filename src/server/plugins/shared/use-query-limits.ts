import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { useQueryCost } from './use-query-cost.js';

export interface QueryLimitsOptions {
  /** @default 15 */
  readonly maxAliases?: number;
  /** @default 10 */
  readonly maxDepth?: number;
  /** @default 2000 */
  readonly maxTokens?: number;
  /** @default 20 */
  readonly maxDirectives?: number;
  /** @default 2000 (see useQueryCost) */
  readonly maxCost?: number;
}

/**
 * graphql-armor's limits, refused while parsing and validating, and the
 * operation's cost, refused as it starts: all before any SQL runs. Each refusal carries a stable code and does not reveal the limit;
 * "Did you mean …" suggestions are stripped so the schema cannot be guessed
 * field by field.
 */
export function useQueryLimits(options: QueryLimitsOptions = {}): Plugin[] {
  const reject = (code: string, message: string) => ({
    exposeLimits: false,
    propagateOnRejection: false,
    onReject: [
      () => {
        throw new GraphQLError(message, { extensions: { code, http: { status: 400 } } });
      },
    ],
  });
  return [
    maxTokensPlugin({ n: options.maxTokens ?? 2000, ...reject('TOKEN_LIMIT', 'the document has too many tokens') }),
    maxDepthPlugin({ n: options.maxDepth ?? 10, ignoreIntrospection: true, ...reject('DEPTH_LIMIT', 'the query is nested too deeply') }),
    maxAliasesPlugin({ n: options.maxAliases ?? 15, ...reject('ALIAS_LIMIT', 'the query uses too many aliases') }),
    maxDirectivesPlugin({ n: options.maxDirectives ?? 20, ...reject('DIRECTIVE_LIMIT', 'the query uses too many directives') }),
    blockFieldSuggestionsPlugin(),
    // The cost needs the variables, so it is checked when the operation runs, still before any SQL.
    useQueryCost({ maxCost: options.maxCost }),
  ] as Plugin[];
}
