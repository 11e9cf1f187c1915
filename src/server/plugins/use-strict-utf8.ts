import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * Refuses a request body that is not valid UTF-8 with 400 BAD_REQUEST, before
 * it is parsed. Yoga decodes bodies leniently: an invalid byte would become
 * U+FFFD and could be stored as text nobody sent. This wraps whichever body
 * parser Yoga picked, and Yoga's body-size limit (registered after every user
 * plugin) wraps this in turn, so a body over the limit is still cut off with
 * 413 while it is being read.
 */
export function useStrictUtf8(): Plugin {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      if (!requestParser || request.body == null) return;
      const parse = requestParser;
      setRequestParser(async (limited) => {
        const bytes = new Uint8Array(await limited.arrayBuffer());
        try {
          decoder.decode(bytes);
        } catch {
          throw new GraphQLError('the request body is not valid UTF-8', { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });
        }
        return parse(new fetchAPI.Request(limited.url, { method: limited.method, headers: limited.headers, body: bytes }));
      });
    },
  };
}
