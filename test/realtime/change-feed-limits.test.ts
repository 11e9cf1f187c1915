import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { createRedisPlanSubscriptionSlots } from '../../src/realtime/plan-subscription-slots.js';
import { RowChangeFeed } from '../../src/realtime/row-change-feed.js';

const tenant = (n: number) => ({ id: `t${n}`, slug: `tenant${n}`, schema_name: `tenant_${String(n).padStart(32, '0')}` });
/** A plan with no subscription limit of its own: the feed's caps decide. */
const UNLIMITED = { name: 'enterprise', maxSubscriptions: null };
/** A notification as the template's trigger sends it. */
const notify = (feed: RowChangeFeed, n: number, id: string) =>
  (feed as unknown as { deliver(payload: string): void }).deliver(JSON.stringify({ schema: tenant(n).schema_name, table: 'deployments', id, op: 'INSERT' }));

describe('the change feed bounds what subscribers may hold', () => {
  // Never started: these limits are about the streams in memory, not the LISTEN session.
  const feed = () => new RowChangeFeed('postgres://127.0.0.1:1/unused', { maxPerTenant: 2, maxStreams: 3, maxQueued: 2 });

  it('refuses a tenant past its share of open streams, and the server past its total, with TOO_MANY_SUBSCRIPTIONS', () => {
    const f = feed();
    const open = [f.stream({ plan: UNLIMITED, tenant: tenant(1), tables: ['deployments'] }), f.stream({ plan: UNLIMITED, tenant: tenant(1), tables: ['deployments'] })];
    expect(() => f.stream({ plan: UNLIMITED, tenant: tenant(1), tables: ['deployments'] })).toThrow(expect.objectContaining({ code: 'TOO_MANY_SUBSCRIPTIONS', details: expect.objectContaining({ limit: 'maxPerTenant' }) }));
    // Another tenant still gets one; then the server is full.
    open.push(f.stream({ plan: UNLIMITED, tenant: tenant(2), tables: ['deployments'] }));
    expect(() => f.stream({ plan: UNLIMITED, tenant: tenant(3), tables: ['deployments'] })).toThrow(expect.objectContaining({ code: 'TOO_MANY_SUBSCRIPTIONS', details: expect.objectContaining({ limit: 'maxStreams' }) }));
    // A closed stream gives its place back.
    void open[0]!.return();
    expect(f.stream({ plan: UNLIMITED, tenant: tenant(1), tables: ['deployments'] }).open).toBe(true);
  });

  it('ends a stream that falls behind with SLOW_CONSUMER, while the others keep receiving', async () => {
    const f = feed();
    const slow = f.stream({ plan: UNLIMITED, tenant: tenant(1), tables: ['deployments'] });
    const fast = f.stream({ plan: UNLIMITED, tenant: tenant(1), tables: ['deployments'] });
    const heard: string[] = [];
    for (const id of ['a', 'b', 'c', 'd']) {
      notify(f, 1, id);
      heard.push(((await fast.next()).value as { id: string }).id);
    }
    expect(heard).toEqual(['a', 'b', 'c', 'd']);
    expect(slow.open).toBe(false);
    // The slow one's client is told why, then the stream is done.
    await expect(slow.next()).rejects.toMatchObject({ code: 'SLOW_CONSUMER' });
    expect(await slow.next()).toEqual({ done: true, value: undefined });
    expect(f.size).toBe(1);
  });

  it('refuses every subscription with SUBSCRIPTIONS_UNAVAILABLE where no change is ever announced (Citus)', () => {
    const f = new RowChangeFeed('postgres://127.0.0.1:1/unused', { unavailable: 'subscriptions are not available on a Citus cluster yet: poll the query instead' });
    expect(() => f.stream({ plan: UNLIMITED, tenant: tenant(1), tables: ['deployments'] })).toThrow(expect.objectContaining({ code: 'SUBSCRIPTIONS_UNAVAILABLE', message: expect.stringMatching(/Citus/) }));
    expect(f.size).toBe(0);
  });

  it("refuses past the plan's maxSubscriptions, naming the plan, while another tenant's plan still has room; counts by tenant for /metrics", () => {
    const f = feed();
    const basic = { name: 'basic', maxSubscriptions: 1 };
    f.stream({ tenant: tenant(1), plan: basic, tables: ['deployments'] });
    expect(() => f.stream({ tenant: tenant(1), plan: basic, tables: ['deployments'] })).toThrow(
      expect.objectContaining({ code: 'TOO_MANY_SUBSCRIPTIONS', details: { limit: 'maxSubscriptions', max: 1, current: 1, plan: 'basic' } }),
    );
    f.stream({ tenant: tenant(2), plan: basic, tables: ['deployments'] });
    expect(f.openByTenant()).toEqual(new Map([['tenant1', 1], ['tenant2', 1]]));
    // A plan above the server's per-tenant cap (2 here) is bounded by the cap.
    const roomy = new RowChangeFeed('postgres://127.0.0.1:1/unused', { maxPerTenant: 2, maxStreams: 10 });
    const generous = { name: 'custom', maxSubscriptions: 50 };
    roomy.stream({ tenant: tenant(3), plan: generous, tables: ['deployments'] });
    roomy.stream({ tenant: tenant(3), plan: generous, tables: ['deployments'] });
    expect(() => roomy.stream({ tenant: tenant(3), plan: generous, tables: ['deployments'] })).toThrow(
      expect.objectContaining({ code: 'TOO_MANY_SUBSCRIPTIONS', details: expect.objectContaining({ limit: 'maxPerTenant', max: 2 }) }),
    );
  });
});

/** The machines run Redis on 127.0.0.1:6379; the shared plan limit needs it. */
const redisAnswers = await new Promise<boolean>((resolve) => {
  const socket = net.connect(6379, '127.0.0.1');
  socket.once('connect', () => (socket.destroy(), resolve(true)));
  socket.once('error', () => resolve(false));
});

describe("a plan's subscription limit across servers", () => {
  const basic = { name: 'basic', maxSubscriptions: 2 };
  const twoServers = (shared: boolean) => {
    const keyPrefix = `test:subscriptions:${randomBytes(4).toString('hex')}`;
    const slots = () => (shared ? createRedisPlanSubscriptionSlots('redis://127.0.0.1:6379', { keyPrefix }) : undefined);
    return [new RowChangeFeed('postgres://127.0.0.1:1/unused', { planSlots: slots() }), new RowChangeFeed('postgres://127.0.0.1:1/unused', { planSlots: slots() })] as const;
  };

  it.runIf(redisAnswers || process.env.CI)('with Redis, two servers hold a tenant to its plan together, and a closed stream gives its place back', async () => {
    const [first, second] = twoServers(true);
    try {
      const held = [await first.open({ tenant: tenant(1), plan: basic, tables: ['deployments'] }), await second.open({ tenant: tenant(1), plan: basic, tables: ['deployments'] })];
      await expect(second.open({ tenant: tenant(1), plan: basic, tables: ['deployments'] })).rejects.toMatchObject({
        code: 'TOO_MANY_SUBSCRIPTIONS',
        message: 'this tenant has 2 subscriptions open across its servers and its plan "basic" allows 2 (maxSubscriptions): close one or change plans',
        details: { limit: 'maxSubscriptions', max: 2, plan: 'basic' },
      });
      // The refused one took no place on its server either.
      expect(second.size).toBe(1);
      // Another tenant on the same plan is counted apart.
      expect((await first.open({ tenant: tenant(2), plan: basic, tables: ['deployments'] })).open).toBe(true);
      await held[0]!.return();
      await new Promise((resolve) => setTimeout(resolve, 50)); // the release is sent, not awaited
      expect((await second.open({ tenant: tenant(1), plan: basic, tables: ['deployments'] })).open).toBe(true);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  it('the negative control: servers that count alone let the tenant open twice its plan', async () => {
    const [first, second] = twoServers(false);
    for (const feed of [first, second]) for (let i = 0; i < 2; i++) await feed.open({ tenant: tenant(1), plan: basic, tables: ['deployments'] });
    expect(first.size + second.size).toBe(4);
    await Promise.all([first.close(), second.close()]);
  });

  it('when Redis does not answer, each server still holds the tenant to its plan', async () => {
    const feed = new RowChangeFeed('postgres://127.0.0.1:1/unused', { planSlots: createRedisPlanSubscriptionSlots('redis://127.0.0.1:1') });
    try {
      await feed.open({ tenant: tenant(1), plan: basic, tables: ['deployments'] });
      await feed.open({ tenant: tenant(1), plan: basic, tables: ['deployments'] });
      await expect(feed.open({ tenant: tenant(1), plan: basic, tables: ['deployments'] })).rejects.toMatchObject({ code: 'TOO_MANY_SUBSCRIPTIONS', details: { limit: 'maxSubscriptions', current: 2 } });
    } finally {
      await feed.close();
    }
  });
});
