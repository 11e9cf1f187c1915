import pg from 'pg';
import pgUtils from 'pg/lib/utils.js';

/**
 * `text` with each `$n` placeholder replaced by the literal of `values[n-1]`,
 * so the statement can travel in a simple-protocol message (which has no
 * parameters) behind other statements. Undefined when that is not safe:
 * a value that has no text form (bytes), a placeholder out of range, or text
 * this scanner does not fully understand (an unterminated quote or comment).
 *
 * Each value becomes exactly what pg would have sent as a parameter
 * (prepareValue: dates, arrays, JSON, booleans as text) quoted by
 * escapeLiteral, so it reaches PostgreSQL as an untyped literal, which
 * resolves its type from context as an untyped parameter does. Placeholders
 * are found by scanning the SQL, never inside a string, a quoted identifier,
 * a dollar-quoted body or a comment.
 */
export function inlineParameters(text: string, values: readonly unknown[]): string | undefined {
  const literals = values.map(literalOf);
  if (literals.some((literal) => literal === undefined)) return undefined;
  let out = '';
  let from = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    let end: number | undefined;
    if (c === "'") end = endOfQuoted(text, i, "'", isEscapeString(text, i));
    else if (c === '"') end = endOfQuoted(text, i, '"', false);
    else if (c === '-' && text[i + 1] === '-') end = lineEnd(text, i);
    else if (c === '/' && text[i + 1] === '*') end = endOfBlockComment(text, i);
    else if (c === '$') {
      const placeholder = /^\$(\d+)/.exec(text.slice(i));
      if (placeholder && !isIdentifierChar(text[i - 1])) {
        const literal = literals[Number(placeholder[1]) - 1];
        if (literal === undefined) return undefined;
        out += text.slice(from, i) + literal;
        i += placeholder[0].length;
        from = i;
        continue;
      }
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i));
      if (tag && !isIdentifierChar(text[i - 1])) {
        const close = text.indexOf(tag[0], i + tag[0].length);
        end = close < 0 ? -1 : close + tag[0].length;
      }
    }
    if (end === -1) return undefined;
    i = end ?? i + 1;
  }
  return out + text.slice(from);
}

function literalOf(value: unknown): string | undefined {
  if (value === null || value === undefined) return 'NULL';
  const prepared = pgUtils.prepareValue(value) as unknown;
  if (prepared === null) return 'NULL';
  return typeof prepared === 'string' ? pg.escapeLiteral(prepared) : undefined;
}

function isIdentifierChar(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9_$]/.test(c);
}

/** E'…' (or e'…'): backslashes escape there; the E must not end a longer word. */
function isEscapeString(text: string, quote: number): boolean {
  return (text[quote - 1] === 'E' || text[quote - 1] === 'e') && !isIdentifierChar(text[quote - 2]);
}

/** Index after the closing quote (a doubled quote is part of the text), or -1 if unterminated. */
function endOfQuoted(text: string, start: number, quote: string, backslashes: boolean): number {
  for (let i = start + 1; i < text.length; i++) {
    if (backslashes && text[i] === '\\') i++;
    else if (text[i] === quote) {
      if (text[i + 1] === quote) i++;
      else return i + 1;
    }
  }
  return -1;
}

function lineEnd(text: string, start: number): number {
  const newline = text.indexOf('\n', start);
  return newline < 0 ? text.length : newline + 1;
}

/** Block comments nest in PostgreSQL. */
function endOfBlockComment(text: string, start: number): number {
  let depth = 0;
  for (let i = start; i < text.length - 1; i++) {
    if (text[i] === '/' && text[i + 1] === '*') {
      depth++;
      i++;
    } else if (text[i] === '*' && text[i + 1] === '/') {
      depth--;
      i++;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}
