import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import type net from 'node:net';
import type pg from 'pg';
import type { StatementMeter } from '../db/database.js';
import { SchemataError } from '../errors.js';
import { formatBytes } from '../format-bytes.js';

/** The most one tenant transaction may ask of PostgreSQL. */
export interface StatementLimits {
  /** @default 200 */
  readonly maxStatements?: number;
  /** Rows returned, all statements together. @default 20000 */
  readonly maxRows?: number;
  /** Bytes read from the server's socket during the transaction. @default 16 MiB */
  readonly maxBytes?: number;
}

export const DEFAULT_STATEMENT_LIMITS: Required<StatementLimits> = { maxStatements: 200, maxRows: 20_000, maxBytes: 16 * 1024 * 1024 };

/**
 * Counts what a tenant transaction's statements cost and refuses the first
 * statement past a limit with RESULT_TOO_LARGE. It is the ceiling under the
 * cost limit: whatever a document's shape, one request cannot make the
 * server run, hold or send unbounded work. Bytes are what the connection's
 * socket read since the transaction began, so statements that pg queued on
 * the same connection are never counted twice.
 */
export class StatementBudget implements StatementMeter {
  private statements = 0;
  private rows = 0;
  private readonly limits: Required<StatementLimits>;
  private readonly socket: net.Socket | undefined;
  private readonly bytesAtStart: number;
  /** Set once a limit was reached; every later statement is refused too. */
  exceeded: SchemataError | undefined;

  constructor(client: pg.PoolClient, limits: StatementLimits = {}) {
    this.limits = { ...DEFAULT_STATEMENT_LIMITS, ...limits };
    this.socket = client.connection?.stream as net.Socket | undefined;
    this.bytesAtStart = this.socket?.bytesRead ?? 0;
  }

  /** Before a statement is sent. */
  beforeStatement(): void {
    if (this.exceeded) throw this.exceeded;
    if (++this.statements > this.limits.maxStatements) this.refuse(`more than ${this.limits.maxStatements} statements`);
  }

  /** After a statement returned `rows` rows. */
  afterResult(rows: number): void {
    this.rows += rows;
    if (this.rows > this.limits.maxRows) this.refuse(`more than ${this.limits.maxRows} rows`);
    const bytes = (this.socket?.bytesRead ?? 0) - this.bytesAtStart;
    if (bytes > this.limits.maxBytes) this.refuse(`more than ${formatBytes(this.limits.maxBytes)}`);
  }

  private refuse(what: string): never {
    this.exceeded = resultTooLarge(what);
    throw this.exceeded;
  }
}

function resultTooLarge(what: string): SchemataError {
  return new SchemataError('RESULT_TOO_LARGE', `the request would read ${what} from the database: ask for smaller pages or fewer fields`);
}

/**
 * The statements and rows of one part of a shared transaction (one
 * subscriber's event among a batch's), refused past the per-request limits
 * as StatementBudget refuses them, so one part's cost never fails another's.
 * Bytes stay the transaction's: a socket cannot tell whose they were.
 */
export class PartBudget implements KyselyPlugin {
  private statements = 0;
  private rows = 0;
  private readonly limits: Required<StatementLimits>;

  constructor(limits: StatementLimits = {}) {
    this.limits = { ...DEFAULT_STATEMENT_LIMITS, ...limits };
  }

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    if (++this.statements > this.limits.maxStatements) throw resultTooLarge(`more than ${this.limits.maxStatements} statements`);
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    this.rows += args.result.rows.length;
    if (this.rows > this.limits.maxRows) throw resultTooLarge(`more than ${this.limits.maxRows} rows`);
    return args.result;
  }
}
