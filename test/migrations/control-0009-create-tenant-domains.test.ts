import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relationsIn, scratchControlPlane, tenantRow, type ControlPlaneUnderTest } from '../helpers/migration-steps.js';

const TOKEN = 'x'.repeat(43);

/** Control migration 0009 on a registry that already holds tenants: migrate to 0008, seed, migrate, assert. */
describe('control migration 0009 (tenant domains)', () => {
  let plane: ControlPlaneUnderTest;
  beforeAll(async () => {
    plane = await scratchControlPlane();
  });
  afterAll(() => plane.close());

  it('lets tenants claim a host side by side but holds it verified for one only, refuses a malformed one, announces every change with tenant and host, and cascades on purge', async () => {
    const db = plane.database.control;
    await plane.migrate({ direction: 'up', toVersion: 8 });
    await sql.raw(tenantRow('dom_a')).execute(db);
    await sql.raw(tenantRow('dom_b')).execute(db);
    const ids = Object.fromEntries((await sql<{ slug: string; id: string }>`SELECT slug, id FROM control.tenants`.execute(db)).rows.map((r) => [r.slug, r.id]));
    await plane.changes.drain();

    expect(await plane.migrate({ direction: 'up', toVersion: 9 })).toEqual(['0009_create_tenant_domains.sql']);
    await sql`INSERT INTO control.tenant_domains (host, tenant_id, verification_token) VALUES ('events.customer.example', ${ids.dom_a}, ${TOKEN})`.execute(db);
    // A claim holds nothing: another tenant may claim the same host; the same tenant cannot claim it twice.
    await sql`INSERT INTO control.tenant_domains (host, tenant_id, verification_token) VALUES ('events.customer.example', ${ids.dom_b}, ${TOKEN})`.execute(db);
    await expect(
      sql`INSERT INTO control.tenant_domains (host, tenant_id, verification_token) VALUES ('events.customer.example', ${ids.dom_b}, ${TOKEN})`.execute(db),
    ).rejects.toMatchObject({ constraint: 'tenant_domains_pkey' });
    // Verified, it is one tenant's only.
    await sql`UPDATE control.tenant_domains SET verified_at = now() WHERE host = 'events.customer.example' AND tenant_id = ${ids.dom_b}`.execute(db);
    await expect(
      sql`UPDATE control.tenant_domains SET verified_at = now() WHERE host = 'events.customer.example' AND tenant_id = ${ids.dom_a}`.execute(db),
    ).rejects.toMatchObject({ constraint: 'tenant_domains_verified_host_key' });
    await sql`DELETE FROM control.tenant_domains WHERE tenant_id = ${ids.dom_b}`.execute(db);
    await plane.changes.drain();
    for (const bad of ['Events.customer.example', 'localhost', 'events.customer.example.', 'a b.example', 'events.customer.example:80']) {
      await expect(sql`INSERT INTO control.tenant_domains (host, tenant_id, verification_token) VALUES (${bad}, ${ids.dom_b}, ${TOKEN})`.execute(db), bad).rejects.toMatchObject({
        constraint: 'tenant_domains_host_check',
      });
    }
    await expect(sql`INSERT INTO control.tenant_domains (host, tenant_id, verification_token) VALUES ('short.example', ${ids.dom_b}, 'short')`.execute(db)).rejects.toMatchObject({
      constraint: 'tenant_domains_verification_token_check',
    });
    await sql`INSERT INTO control.tenant_domains (host, tenant_id, verification_token) VALUES ('shop.customer.example', ${ids.dom_b}, ${TOKEN})`.execute(db);
    await sql`UPDATE control.tenant_domains SET verified_at = now() WHERE host = 'events.customer.example'`.execute(db);
    await sql`DELETE FROM control.tenant_domains WHERE host = 'events.customer.example'`.execute(db);
    expect(await plane.changes.drain()).toEqual([
      { id: ids.dom_b, slugs: [], hosts: ['shop.customer.example', null] },
      { id: ids.dom_a, slugs: [], hosts: ['events.customer.example', 'events.customer.example'] },
      { id: ids.dom_a, slugs: [], hosts: [null, 'events.customer.example'] },
    ]);

    // Purging the tenant row removes its hosts, and says so.
    await sql`INSERT INTO control.tenant_domains (host, tenant_id, verification_token, verified_at) VALUES ('shop.customer.example', ${ids.dom_a}, ${TOKEN}, now())`.execute(db);
    await sql`DELETE FROM control.tenant_domains WHERE tenant_id = ${ids.dom_b}`.execute(db);
    await plane.changes.drain();
    await sql`DELETE FROM control.tenants WHERE id = ${ids.dom_a}`.execute(db);
    expect((await sql`SELECT host FROM control.tenant_domains`.execute(db)).rows).toEqual([]);
    expect(await plane.changes.drain()).toContainEqual({ id: ids.dom_a, slugs: [], hosts: [null, 'shop.customer.example'] });
  });

  it('goes down without a trace and up again', async () => {
    expect(await plane.migrate({ direction: 'down', toVersion: 8 })).toEqual(['0009_create_tenant_domains.sql']);
    expect(await relationsIn(plane.database, 'control')).not.toContain('tenant_domains');
    const functions = await sql<{ proname: string }>`SELECT proname FROM pg_proc WHERE proname = 'notify_tenant_domain_change'`.execute(plane.database.control);
    expect(functions.rows).toEqual([]);
    expect(await plane.migrate({ direction: 'up', toVersion: 9 })).toEqual(['0009_create_tenant_domains.sql']);
    expect(await relationsIn(plane.database, 'control')).toContain('tenant_domains');
  });
});
