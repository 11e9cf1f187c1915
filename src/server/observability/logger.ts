import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * JSON logs. Credentials never reach them: Authorization headers, passwords
 * and tokens are censored wherever they appear in a logged object.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      redact: {
        paths: ['authorization', '*.authorization', 'headers.authorization', '*.password', '*.token', '*.refreshToken', '*.accessToken', 'variables.*'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

export type { Logger };
