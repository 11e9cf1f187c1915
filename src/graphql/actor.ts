import type { GraphQLContext } from './context.js';

/** The user id recorded as `actor_id` in the audit log: null for identity-provider subjects that are not rows here. */
export function actorOf(context: GraphQLContext): string | null {
  return context.currentUser?.userId ?? null;
}
