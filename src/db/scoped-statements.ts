import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type pg from 'pg';
import { inlineParameters } from './inline-parameters.js';

/**
 * Sees every statement a bound client runs, and may refuse one by throwing;
 * the tenant transaction's statement budget is one.
 */
export interface StatementMeter {
  /** Before a statement is sent. */
  beforeStatement(): void;
  /** After a statement returned `rows` rows. */
  afterResult(rows: number): void;
}

/**
 * SQL that must run before the first statement of a transaction (BEGIN and
 * its scope), sent in the same round trip as that statement: one message,
 * so the statement cannot run without it.
 */
export interface TransactionOpening {
  readonly sql: string;
  /**
   * Reads: no transaction spans the request. `sql` (the scope, with no BEGIN)
   * goes out in front of every statement instead, and PostgreSQL runs each
   * such multi-statement message as one implicit transaction, so the scope
   * ends with each statement and there is nothing to COMMIT: one round trip
   * per statement. Statements run one at a time; `settled` resolves once the
   * last sent has (whatever its outcome).
   */
  readonly eachStatement?: boolean;
  settled?: Promise<unknown>;
  /**
   * Set when the first statement goes out; settles once the message has run,
   * and rejects only if no transaction began: a message PostgreSQL refused
   * whole (a NUL byte, a syntax error) never ran BEGIN. Every later statement
   * waits for it and fails with it, so nothing runs outside the scope. Unset:
   * no statement was sent, so no transaction was opened.
   */
  opened?: Promise<void>;
  /**
   * Set by the transaction's owner once it is over, before the connection
   * goes back: a statement of it that reaches the wire later is refused
   * instead of running on a connection the next transaction holds.
   */
  ended?: boolean;
}

/**
 * Sends one statement of a bound client: bare when no transaction opening
 * applies, else inside it (see TransactionOpening), metered when a meter is.
 */
export async function sendStatement(
  client: pg.PoolClient,
  opening: TransactionOpening | undefined,
  meter: StatementMeter | undefined,
  text: string,
  values: unknown[] | undefined,
): Promise<pg.QueryResult> {
  if (opening?.ended) throw new Error('tenant data accessed after its transaction ended');
  meter?.beforeStatement();
  const send = async () => {
    const result = await (opening ? sendInOpening(client, opening, text, values) : client.query(text, values));
    meter?.afterResult(result.rows.length);
    return result;
  };
  // Outside a traced request (tracing off, the usual case, or a CLI) nothing more is allocated per statement.
  if (!trace.getActiveSpan()) return send();
  // A child of the request's span. Only the statement's verb: never its text, values or error message, which may quote a row.
  const span = tracer.startSpan('db.statement', { kind: SpanKind.CLIENT, attributes: { 'db.system.name': 'postgresql', 'db.operation.name': verbOf(text) } });
  try {
    const result = await send();
    span.setAttribute('db.response.returned_rows', result.rows.length);
    return result;
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR });
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') span.setAttribute('db.response.status_code', code);
    throw error;
  } finally {
    span.end();
  }
}

const tracer = trace.getTracer('schemata');

/** SELECT, INSERT, … : the statement's first keyword, the only part of its text a span carries. */
function verbOf(text: string): string {
  return /^\s*([a-z]+)/i.exec(text)?.[1]?.toUpperCase() ?? 'UNKNOWN';
}

function sendInOpening(client: pg.PoolClient, opening: TransactionOpening, text: string, values: unknown[] | undefined): Promise<pg.QueryResult> {
  if (opening.eachStatement) {
    const run = () => sendScoped(client, opening.sql, text, values);
    const sent = (opening.settled ?? Promise.resolve()).then(run, run);
    opening.settled = sent.catch(() => undefined);
    return sent;
  }
  if (opening.opened) return opening.opened.then(() => client.query(text, values));
  const inlined = inlinedOrUndefined(text, values);
  // Failed with the transaction open (aborted, 'E'): later statements go on and PostgreSQL refuses
  // them there. Failed with none ('I'): the message was refused whole, and so is every later statement.
  const settle = (sent: Promise<unknown>) => {
    opening.opened = sent.then(
      () => undefined,
      async (error: unknown) => {
        if ((await statusAfterMessage(client)) === 'I') throw error;
      },
    );
    opening.opened.catch(() => undefined);
  };
  if (inlined === undefined) {
    const began = client.query(opening.sql);
    settle(began);
    return began.then(() => client.query(text, values));
  }
  // One simple-protocol message; PostgreSQL stops at the first failing statement of it.
  const first = client.query(`${opening.sql}; ${inlined}`).then((results) => (results as unknown as pg.QueryResult[]).at(-1)!);
  settle(first);
  return first;
}

/**
 * One statement behind `prefix` in one message: an implicit transaction of
 * its own. A statement whose values have no literal form (bytes) cannot
 * travel so; it gets a transaction of its own around it instead, ended
 * whatever fails (ROLLBACK is only a warning when nothing is open), so the
 * connection never goes back inside one.
 */
async function sendScoped(client: pg.PoolClient, prefix: string, text: string, values: unknown[] | undefined): Promise<pg.QueryResult> {
  const inlined = inlinedOrUndefined(text, values);
  if (inlined !== undefined) return ((await client.query(`${prefix}; ${inlined}`)) as unknown as pg.QueryResult[]).at(-1)!;
  try {
    await client.query(`BEGIN; ${prefix}`);
    const result = await client.query(text, values);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
}

function inlinedOrUndefined(text: string, values: unknown[] | undefined): string | undefined {
  try {
    return values?.length ? inlineParameters(text, values) : text;
  } catch {
    return undefined;
  }
}

/**
 * The transaction status once the failed message's ReadyForQuery has arrived.
 * pg rejects a query on its ErrorResponse, before ReadyForQuery: when the two
 * came in separate reads of the socket, getTransactionStatus() still told the
 * status from before the message ('I'), and an aborted transaction passed for
 * one that never began (seen against PostgreSQL 15 over TCP). A connection
 * that dies instead answers 'I': nothing is open on it any more.
 */
function statusAfterMessage(client: pg.PoolClient): Promise<string> {
  const state = client as unknown as { readyForQuery: boolean; connection: NodeJS.EventEmitter };
  if (state.readyForQuery) return Promise.resolve(client.getTransactionStatus() ?? 'I');
  return new Promise((resolve) => {
    const done = () => {
      state.connection.off('readyForQuery', done);
      state.connection.off('end', done);
      // After pg's own listener, which records the status this message left.
      resolve(client.getTransactionStatus() ?? 'I');
    };
    state.connection.on('readyForQuery', done);
    state.connection.on('end', done);
  });
}
