import { createHash } from 'node:crypto';

/** The standard list page as a GraphQL request, and how to read tenant fingerprints out of either answer. */
export const LIST_PAGE_QUERY =
  'query ListPage { deployments(first: 20, filter: { status: [ACTIVE] }) { totalCount edges { node { id url createdAt project { name } } } } }';

/** Its id as a trusted document (`npm run bench -- --trusted-documents`). */
export const LIST_PAGE_HASH = createHash('sha256').update(LIST_PAGE_QUERY).digest('hex');

export type Target = 'schemata' | 'floor';

/** URLs in a response body: the GraphQL answer nests them in edges, the floor's in rows. */
export function urlsIn(target: Target, body: string): string[] | undefined {
  try {
    const parsed = JSON.parse(body);
    if (target === 'floor') return (parsed.rows as { url: string }[]).map((row) => row.url);
    if (parsed.errors) return undefined;
    return (parsed.data.deployments.edges as { node: { url: string } }[]).map((edge) => edge.node.url);
  } catch {
    return undefined;
  }
}

/** bench_00042 owns https://bench-00042.bench/… */
export function ownsUrl(slug: string, url: string): boolean {
  return new URL(url).hostname === `${slug.replaceAll('_', '-')}.bench`;
}
