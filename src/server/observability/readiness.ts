import { sql } from 'kysely';
import type { Database } from '../../db/database.js';

export interface ReadinessState {
  readonly ready: boolean;
  /** Why not, in words for an operator: draining, the database, tenants behind. */
  readonly reason?: string;
  /** Live tenants below the template head, when the database answered. */
  readonly behind?: number;
}

export interface Readiness {
  /** Whether to accept traffic: false once shutdown began, or while the database or templates are not ready. */
  check(): Promise<boolean>;
  /** The same answer, with the reason when not ready (the body of /ready). */
  state(): Promise<ReadinessState>;
  /** Called when shutdown begins: /ready answers 503 from then on. */
  drain(): void;
}

/**
 * Ready means: not draining, the database answers, and no live tenant is
 * behind the template head (a deploy whose migrations did not run is not
 * ready). The answer is reused for a second so probes cannot load the database.
 */
export function createReadiness(database: Database, latestTemplateVersion: number, cacheMs = 1_000): Readiness {
  let draining = false;
  let cached: { at: number; state: Promise<ReadinessState> } | undefined;
  const probe = async (): Promise<ReadinessState> => {
    try {
      const result = await sql<{ behind: number }>`
        SELECT count(*)::int AS behind FROM control.tenants
        WHERE status <> 'deleted' AND template_version < ${latestTemplateVersion}`.execute(database.control);
      const behind = result.rows[0]!.behind;
      return behind === 0 ? { ready: true, behind } : { ready: false, behind, reason: `${behind} tenant${behind === 1 ? ' is' : 's are'} behind template version ${latestTemplateVersion}: run npm run migrate` };
    } catch {
      return { ready: false, reason: 'the database does not answer' };
    }
  };
  const state = async (): Promise<ReadinessState> => {
    if (draining) return { ready: false, reason: 'shutting down' };
    if (!cached || Date.now() - cached.at > cacheMs) cached = { at: Date.now(), state: probe() };
    return cached.state;
  };
  return {
    state,
    check: async () => (await state()).ready,
    drain() {
      draining = true;
    },
  };
}
