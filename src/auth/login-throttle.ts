import { RateLimiterMemory } from 'rate-limiter-flexible';
import { SchemataError } from '../errors.js';

export interface LoginThrottleOptions {
  /** @default 5 */
  readonly maxFailures?: number;
  /** @default 900 */
  readonly windowSeconds?: number;
}

/**
 * Failed logins per tenant and email: after `maxFailures` within the window,
 * further attempts are refused until it passes, right password or not.
 * Kept in this process's memory (rate-limiter-flexible); a success clears it.
 */
export class LoginThrottle {
  private readonly limiter: RateLimiterMemory;
  private readonly maxFailures: number;

  constructor(options: LoginThrottleOptions = {}) {
    this.maxFailures = options.maxFailures ?? 5;
    this.limiter = new RateLimiterMemory({ points: this.maxFailures, duration: options.windowSeconds ?? 900 });
  }

  async assertAllowed(key: string): Promise<void> {
    const state = await this.limiter.get(key);
    if (state && state.consumedPoints >= this.maxFailures) {
      const seconds = Math.ceil(state.msBeforeNext / 1000);
      throw new SchemataError('TOO_MANY_ATTEMPTS', `too many failed sign-ins for this email: try again in ${seconds} s`, { retryAfterSeconds: seconds });
    }
  }

  async recordFailure(key: string): Promise<void> {
    await this.limiter.penalty(key, 1);
  }

  async recordSuccess(key: string): Promise<void> {
    await this.limiter.delete(key);
  }
}
