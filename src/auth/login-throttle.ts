import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { SchemataError } from '../errors.js';

export interface LoginThrottleOptions {
  /** Failed sign-ins for one account from one client address before that address is refused. @default 5 */
  readonly maxFailures?: number;
  /** @default 900 */
  readonly windowSeconds?: number;
  /** Failed sign-ins for one account from all addresses together before the account is refused everywhere. @default 50 */
  readonly maxAccountFailures?: number;
  /** @default 3600 */
  readonly accountWindowSeconds?: number;
}

/** A reserved sign-in attempt: it counts as a failure unless `succeeded` is called. */
export interface LoginAttempt {
  succeeded(): Promise<void>;
}

/**
 * Failed sign-ins per account (tenant and email), counted twice: per client
 * address, so a stranger who guesses locks out only their own address, not
 * the real user at hers; and per account over all addresses with a looser
 * ceiling, so an attack spread over many addresses still ends.
 *
 * Each attempt is reserved before the password is checked (rate-limiter-
 * flexible's consume is atomic, in memory as in Redis), so concurrent
 * attempts cannot all pass a check made before any of them failed.
 */
export class LoginThrottle {
  private readonly perAddress: RateLimiterMemory;
  private readonly perAccount: RateLimiterMemory;

  constructor(options: LoginThrottleOptions = {}) {
    this.perAddress = new RateLimiterMemory({ keyPrefix: 'login-address', points: options.maxFailures ?? 5, duration: options.windowSeconds ?? 900 });
    this.perAccount = new RateLimiterMemory({ keyPrefix: 'login-account', points: options.maxAccountFailures ?? 50, duration: options.accountWindowSeconds ?? 3600 });
  }

  /** Reserves one attempt, or throws TOO_MANY_ATTEMPTS when either count is used up. */
  async reserve(account: string, clientAddress: string): Promise<LoginAttempt> {
    const pair = `${clientAddress} ${account}`;
    await this.perAddress.consume(pair).catch(refuse);
    await this.perAccount.consume(account).catch(async (rejection: unknown) => {
      // Not attempted after all: the address keeps its try.
      await this.perAddress.reward(pair, 1);
      return refuse(rejection);
    });
    return {
      // A success clears this address's failures, but not the account's: the
      // real user signing in must not hand a distributed guesser a fresh ceiling.
      succeeded: async () => {
        await this.perAddress.delete(pair);
        await this.perAccount.reward(account, 1);
      },
    };
  }
}

function refuse(rejection: unknown): never {
  if (!(rejection instanceof RateLimiterRes)) throw rejection;
  const seconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
  throw new SchemataError('TOO_MANY_ATTEMPTS', `too many failed sign-ins for this email: try again in ${seconds} s`, { retryAfterSeconds: seconds });
}
