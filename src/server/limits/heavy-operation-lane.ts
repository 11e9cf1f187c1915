import { RateLimiterMemory, RateLimiterQueue } from 'rate-limiter-flexible';
import { SchemataError } from '../../errors.js';
import { TenantConcurrency } from './tenant-concurrency.js';

export interface HeavyOperationLaneOptions {
  /** Operations above this cost are heavy. @default 200 */
  readonly heavyCost?: number;
  /** Cost of heavy operations one tenant may start per second; at least the cost limit. @default 2000 */
  readonly costPerSecond?: number;
  /** Heavy operations of one tenant that may wait; past it 503 TENANT_BUSY. @default 8 */
  readonly maxWaiting?: number;
}

/**
 * Where a tenant's heavy operations wait their turn: one at a time, and no
 * more than `costPerSecond` of them a second, before they take a connection.
 * The cost limit bounds one request; this bounds how much of the process's
 * CPU and memory one tenant's stream of its heaviest allowed requests takes,
 * while its light operations (the list page costs 41) never wait here.
 */
export class HeavyOperationLane {
  private readonly heavyCost: number;
  private readonly oneAtATime: TenantConcurrency;
  private readonly budget: RateLimiterQueue;

  constructor(options: HeavyOperationLaneOptions = {}) {
    this.heavyCost = options.heavyCost ?? 200;
    this.oneAtATime = new TenantConcurrency({ perTenant: 1, maxWaiting: options.maxWaiting ?? 8 });
    this.budget = new RateLimiterQueue(new RateLimiterMemory({ points: options.costPerSecond ?? 2_000, duration: 1, keyPrefix: 'heavy-cost' }));
  }

  run<T>(tenantId: string, cost: number, work: () => Promise<T>): Promise<T> {
    if (cost <= this.heavyCost) return work();
    return this.oneAtATime.run(tenantId, async () => {
      await this.budget.removeTokens(cost, tenantId).catch(() => {
        // Only a cost above costPerSecond gets here, which the cost limit should have refused.
        throw new SchemataError('TENANT_BUSY', 'this operation is heavier than this tenant may run in a second');
      });
      return work();
    });
  }
}
