import { sql } from 'kysely';
import type { Database } from '../../db/database.js';

export interface Readiness {
  /** Whether to accept traffic: false once shutdown began, or while the database or templates are not ready. */
  check(): Promise<boolean>;
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
  let cached: { at: number; ready: Promise<boolean> } | undefined;
  const probe = async (): Promise<boolean> => {
    try {
      const result = await sql<{ behind: number }>`
        SELECT count(*)::int AS behind FROM control.tenants
        WHERE status <> 'deleted' AND template_version < ${latestTemplateVersion}`.execute(database.control);
      return result.rows[0]!.behind === 0;
    } catch {
      return false;
    }
  };
  return {
    async check() {
      if (draining) return false;
      if (!cached || Date.now() - cached.at > cacheMs) cached = { at: Date.now(), ready: probe() };
      return cached.ready;
    },
    drain() {
      draining = true;
    },
  };
}
