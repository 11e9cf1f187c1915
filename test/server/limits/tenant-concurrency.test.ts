import { describe, expect, it } from 'vitest';
import { TenantConcurrency } from '../../../src/server/limits/tenant-concurrency.js';

/** A unit of work held open until released, recording when it started. */
function holds(concurrency: TenantConcurrency, tenant: string, count: number, started: string[]) {
  const releases: (() => void)[] = [];
  const done = Array.from({ length: count }, (_, i) =>
    concurrency.run(tenant, () => {
      started.push(`${tenant}${i}`);
      return new Promise<void>((resolve) => releases.push(resolve));
    }),
  );
  return { done, release: (n = releases.length) => releases.splice(0, n).forEach((release) => release()) };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('sharing the pool between tenants', () => {
  it('a tenant alone may go past its share, up to the pool less one share', async () => {
    const started: string[] = [];
    const a = holds(new TenantConcurrency({ perTenant: 2, total: 8 }), 'a', 8, started);
    await settle();
    expect(started).toHaveLength(6);
    a.release();
    await settle();
    expect(started).toHaveLength(8);
    a.release();
    await Promise.all(a.done);
  });

  it('a tenant that arrives while another borrows starts at once; freed slots go to tenants under their share first, then to the oldest waiters, and none stays idle past the reserve', async () => {
    const started: string[] = [];
    const concurrency = new TenantConcurrency({ perTenant: 2, total: 8 });
    const running = () => (concurrency as unknown as { running: number }).running;
    const a = holds(concurrency, 'a', 12, started);
    await settle();
    const b = holds(concurrency, 'b', 4, started);
    await settle();
    // b finds the share kept free for it.
    expect(started.filter((s) => s.startsWith('b'))).toEqual(['b0', 'b1']);
    expect(running()).toBe(8);
    // a lets go of its six: a, under its share, gets two; then the oldest waiters, while one share stays free.
    a.release();
    await settle();
    expect(running()).toBe(6);
    expect(started.filter((s) => s.startsWith('a'))).toHaveLength(10);
    expect(started.filter((s) => s.startsWith('b'))).toEqual(['b0', 'b1']);
    for (let i = 0; i < 4; i++) {
      a.release();
      b.release();
      await settle();
    }
    await Promise.all([...a.done, ...b.done]);
    expect(started).toHaveLength(16);
  });

  it('without a pool size the share is a hard cap (the control: no borrowing)', async () => {
    const started: string[] = [];
    const a = holds(new TenantConcurrency({ perTenant: 2 }), 'a', 5, started);
    await settle();
    expect(started).toHaveLength(2);
    for (let i = 0; i < 3; i++) {
      a.release();
      await settle();
    }
    await Promise.all(a.done);
    expect(started).toHaveLength(5);
  });

  it('refuses with TENANT_BUSY past maxWaiting, and keeps nothing for idle tenants', async () => {
    const concurrency = new TenantConcurrency({ perTenant: 1, total: 2, maxWaiting: 1 });
    const started: string[] = [];
    const a = holds(concurrency, 'a', 2, started);
    await settle();
    await expect(concurrency.run('a', async () => undefined)).rejects.toMatchObject({ code: 'TENANT_BUSY' });
    a.release();
    await settle();
    a.release();
    await Promise.all(a.done);
    expect((concurrency as unknown as { active: Map<string, number> }).active.size).toBe(0);
  });
});
