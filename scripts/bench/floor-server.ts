import http from 'node:http';
import pg from 'pg';

/**
 * The floor: bare node:http + pg answering the standard list page with the
 * same SQL in one schema-qualified round trip, without GraphQL, auth or a
 * transaction. Whatever schemata costs beyond this is overhead.
 */
export function createFloorHandler(pool: pg.Pool, schemas: ReadonlyMap<string, string>): http.RequestListener {
  const statements = new Map([...schemas].map(([slug, schema]) => [slug, listPageSql(schema)]));
  return (request, response) => {
    const statement = statements.get(String(request.headers['x-tenant-id']));
    request.resume();
    if (!statement) {
      response.writeHead(404).end();
      return;
    }
    pool.query<{ page: unknown }>(statement).then(
      (result) => {
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result.rows[0]!.page));
      },
      () => response.writeHead(500).end(),
    );
  };
}

/** The 20 newest active deployments with their project's name, and the total count. */
function listPageSql(schema: string): string {
  const s = pg.escapeIdentifier(schema);
  return `SELECT json_build_object(
    'totalCount', (SELECT count(*) FROM ${s}.deployments WHERE status = 'active'),
    'rows', (SELECT json_agg(t) FROM (
      SELECT d.id, d.url, d.created_at, p.name AS project_name
      FROM ${s}.deployments d JOIN ${s}.projects p ON p.id = d.project_id
      WHERE d.status = 'active' ORDER BY d.created_at DESC, d.id DESC LIMIT 20) t)) AS page`;
}
