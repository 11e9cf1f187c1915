import type { AuthUser } from './access-token.js';

/**
 * Remembers tokens that already passed verification, until they expire, so a
 * client sending the same token on every request pays for the signature check
 * once. Bounded, and emptied for a tenant whenever its keys change, so key
 * rotation still takes effect at once.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, { user: AuthUser; expiresAtMs: number }>();

  constructor(private readonly maxEntries = 10_000) {}

  get(token: string, nowMs = Date.now()): AuthUser | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (entry.expiresAtMs <= nowMs) {
      this.entries.delete(token);
      return undefined;
    }
    return entry.user;
  }

  set(token: string, user: AuthUser, expiresAtMs: number): void {
    if (this.entries.size >= this.maxEntries) {
      // Maps iterate in insertion order: drop the oldest.
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(token, { user, expiresAtMs });
  }

  forgetTenant(tenantId: string | undefined): void {
    if (tenantId === undefined) {
      this.entries.clear();
      return;
    }
    for (const [token, entry] of this.entries) if (entry.user.tenantId === tenantId) this.entries.delete(token);
  }
}
