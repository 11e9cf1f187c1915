import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** More variable values than any operation of this API needs; checking stays cheap. */
const MAX_VARIABLE_VALUES = 10_000;
/** In a `u` regex a surrogate pair is one code point, so only an unpaired half matches (String.isWellFormed is ES2024). */
const UNPAIRED_SURROGATE = /\p{Surrogate}/u;

/**
 * Refuses, with 400 BAD_REQUEST and before any SQL, a request whose text is
 * not well-formed Unicode. Yoga decodes leniently: an invalid byte, an
 * invalid percent-encoded sequence (`%C3%28` in a form body or a GET query
 * string) would become U+FFFD, and a JSON escape of an unpaired surrogate
 * (`"\ud800"`) would reach resolvers as an ill-formed string that Postgres
 * stores as U+FFFD: text nobody sent.
 *
 * The body check wraps whichever body parser Yoga picked, and Yoga's
 * body-size limit (registered after every user plugin) wraps this in turn, so
 * a body over the limit is still cut off with 413 while it is being read.
 */
export function useStrictUtf8(): Plugin {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      if (!requestParser) return;
      if (request.method === 'GET') {
        const query = request.url.indexOf('?');
        if (query >= 0 && !percentDecodesToUtf8(request.url.slice(query + 1))) {
          throw badRequest('the query string has a percent-encoded sequence that is not valid UTF-8');
        }
        return;
      }
      if (request.body == null) return;
      const parse = requestParser;
      setRequestParser(async (limited) => {
        const bytes = new Uint8Array(await limited.arrayBuffer());
        let text: string;
        try {
          text = decoder.decode(bytes);
        } catch {
          throw badRequest('the request body is not valid UTF-8');
        }
        if (isFormUrlEncoded(limited) && !percentDecodesToUtf8(text)) {
          throw badRequest('the request body has a percent-encoded sequence that is not valid UTF-8');
        }
        return parse(new fetchAPI.Request(limited.url, { method: limited.method, headers: limited.headers, body: bytes }));
      });
    },
    onParams({ params }) {
      for (const field of ['query', 'operationName'] as const) {
        const value: unknown = params[field];
        if (typeof value === 'string' && UNPAIRED_SURROGATE.test(value)) throw badRequest(`the ${field} contains an unpaired surrogate`);
      }
      const variables = checkVariables(params.variables);
      if (variables === 'too many') throw badRequest('the variables hold too many values');
      if (variables === 'ill-formed') throw badRequest('the variables contain an unpaired surrogate');
    },
  };
}

function badRequest(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });
}

// The same test Yoga uses to pick its form parser.
function isFormUrlEncoded(request: Request): boolean {
  const contentType = request.headers.get('content-type')?.split(',')[0];
  return contentType === 'application/x-www-form-urlencoded' || !!contentType?.startsWith('application/x-www-form-urlencoded;');
}

/**
 * Whether every percent-encoded sequence of `a=b&c=d` decodes as UTF-8.
 * A '%' without two hex digits is kept literally, as URLSearchParams does;
 * '+' is irrelevant here (it only ever stands for a space).
 */
function percentDecodesToUtf8(form: string): boolean {
  for (const component of form.split(/[&=]/)) {
    if (!component.includes('%')) continue;
    try {
      decodeURIComponent(component.replace(/%(?![0-9A-Fa-f]{2})/g, '%25'));
    } catch {
      return false;
    }
  }
  return true;
}

/** Walks the parsed variables without recursion (JSON may nest deeper than the stack). */
function checkVariables(variables: unknown): 'ok' | 'ill-formed' | 'too many' {
  const pending: unknown[] = [variables];
  let budget = MAX_VARIABLE_VALUES;
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === 'string') {
      if (UNPAIRED_SURROGATE.test(value)) return 'ill-formed';
    } else if (Array.isArray(value)) {
      if ((budget -= value.length) < 0) return 'too many';
      for (const item of value) pending.push(item);
    } else if (typeof value === 'object' && value !== null) {
      const keys = Object.keys(value);
      if ((budget -= keys.length) < 0) return 'too many';
      for (const key of keys) {
        if (UNPAIRED_SURROGATE.test(key)) return 'ill-formed';
        pending.push((value as Record<string, unknown>)[key]);
      }
    }
  }
  return 'ok';
}
