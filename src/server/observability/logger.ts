import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * What must never be read in a log line, whatever wrote it: an error's
 * message or detail from PostgreSQL can quote a row (`Key (email)=(…)`), a
 * library can echo a header. Each is replaced in the finished line.
 */
const SECRETS: readonly [RegExp, string][] = [
  // Access and platform tokens (JWTs), whole.
  [/eyJ[\w-]*\.[\w-]+\.[\w-]*/g, '[token]'],
  // Refresh and one-time tokens and signing secrets: 256 random bits as base64url (src/auth/random-secret.ts), which
  // hold an upper-case letter (but about once in 5 billion), where slugs and ids of that length are lower-case.
  [/(?<![\w-])(?=[\w-]{0,42}[A-Z])[\w-]{43}(?![\w-])/g, '[secret]'],
  // Email addresses. Anchored and bounded, so a long run of word characters costs linear time (a log line may hold
  // a client's operation name).
  [/(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}/g, '[email]'],
];

export function scrubLogLine(line: string): string {
  return SECRETS.reduce((text, [pattern, replacement]) => text.replace(pattern, replacement), line);
}

/**
 * JSON logs. Credentials never reach them: Authorization headers, passwords
 * and tokens are censored wherever they appear in a logged object, and every
 * finished line is scrubbed of anything shaped like a token, a secret or an
 * email address, so an error quoting a row cannot carry one out either.
 */
export function createLogger(level: string, destination: DestinationStream = pino.destination({ dest: 1, sync: true })): Logger {
  return pino(
    {
      level,
      base: undefined,
      redact: {
        paths: ['authorization', '*.authorization', 'headers.authorization', '*.password', '*.token', '*.refreshToken', '*.accessToken', 'variables.*'],
        censor: '[redacted]',
      },
    },
    { write: (line: string) => destination.write(scrubLogLine(line)) },
  );
}

export type { Logger };
