import { RateLimiterMemory } from 'rate-limiter-flexible';

export interface ResetMailLimitOptions {
  /** @default 3 */
  readonly mailsPerHour?: number;
}

/**
 * How many reset mails one address of one tenant receives in an hour. Past
 * it the request still answers `true` and does the same work; only the mail
 * stays unsent, so a stranger cannot flood someone's inbox through us, and
 * the answer still tells nothing about the account.
 */
export class ResetMailLimit {
  private readonly sent: RateLimiterMemory;

  constructor(options: ResetMailLimitOptions = {}) {
    this.sent = new RateLimiterMemory({ points: options.mailsPerHour ?? 3, duration: 3600, keyPrefix: 'reset-mail' });
  }

  /** Counts one request for `email` of `tenantId`, whether or not the account exists; false once over the hour's limit. */
  async allow(tenantId: string, email: string): Promise<boolean> {
    return this.sent.consume(`${tenantId}:${email.trim().toLowerCase()}`).then(
      () => true,
      () => false,
    );
  }
}
