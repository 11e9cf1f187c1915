// Child process of the list-page benchmark: the bare node:http + pg floor.
// argv: <tenants.json> ; env: DATABASE_URL, PG_POOL_SIZE. Prints "ready <port>".
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { loadConfig } from '../../src/config.js';
import { createFloorHandler } from './floor-server.js';

const config = loadConfig();
const tenants = JSON.parse(await fs.readFile(process.argv[2]!, 'utf8')) as { slug: string; schema: string }[];
const pool = new pg.Pool({ connectionString: config.databaseUrl, max: config.poolSize });
pool.on('error', () => undefined);
const server = http.createServer(createFloorHandler(pool, new Map(tenants.map((t) => [t.slug, t.schema]))));
server.listen(0, '127.0.0.1', () => console.log(`ready ${(server.address() as AddressInfo).port}`));
process.on('SIGTERM', () => server.close(() => pool.end().then(() => process.exit(0))));
