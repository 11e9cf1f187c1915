import { hasSqlDetails, loadModule, parseSync, type Node } from 'libpg-query';

export interface SqlStatement {
  /** The statement as written, comments inside it included, without its `;` and surrounding whitespace. */
  readonly text: string;
  /** PostgreSQL's raw parse tree of it. */
  readonly tree: Node;
}

/** What PostgreSQL's parser said about SQL that does not parse. */
export class SqlSyntaxError extends Error {
  constructor(
    message: string,
    /** 1-based line of the text where the parser stopped, when it said where. */
    readonly line: number | undefined,
  ) {
    super(message);
    this.name = 'SqlSyntaxError';
  }
}

/**
 * Splits SQL text into its statements with PostgreSQL's own parser (as WASM),
 * so a `;` inside a string, a quoted name or a dollar-quoted function body
 * never splits one. Text with no statement (empty, or only comments) gives
 * none. Throws SqlSyntaxError if the text does not parse.
 */
export async function splitStatements(sqlText: string): Promise<SqlStatement[]> {
  if (sqlText.trim() === '') return [];
  // parseSync refuses to run before the WASM module is instantiated; after
  // the first call this resolves at once.
  await loadModule();
  // The parser's offsets count bytes of the UTF-8 text, not UTF-16 units.
  const bytes = Buffer.from(sqlText, 'utf8');
  let parsed;
  try {
    parsed = parseSync(sqlText);
  } catch (error) {
    if (!hasSqlDetails(error)) throw error;
    // Unlike the statement offsets, the error's position counts characters (code points).
    const at = error.sqlDetails?.cursorPosition;
    const line = at === undefined ? undefined : [...sqlText].slice(0, at).join('').split('\n').length;
    throw new SqlSyntaxError(error.sqlDetails?.message ?? error.message, line);
  }
  return (parsed.stmts ?? []).map((raw) => {
    // The parser omits a 0 offset, and a length of 0 (or none) means "to the end".
    const start = raw.stmt_location ?? 0;
    const end = raw.stmt_len ? start + raw.stmt_len : bytes.length;
    return { text: bytes.subarray(start, end).toString('utf8').trim(), tree: raw.stmt! };
  });
}
