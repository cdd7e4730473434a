import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Paths that may hold a secret and are censored wherever they appear in a log line: room pins and tokens, SIP
 * credentials, authorisation headers. Call code never logs whole requests (see `describeRequest`); this is the net
 * under that rule.
 */
export const REDACTED_PATHS = [
  'pin',
  'token',
  'password',
  'secret',
  'credential',
  'authorization',
  '*.pin',
  '*.token',
  '*.password',
  '*.secret',
  '*.credential',
  '*.authorization',
  '*.*.pin',
  '*.*.token',
  '*.*.password',
  '*.*.secret',
  '*.*.credential',
  'apiSecret',
  'apisecret',
  '*.apiSecret',
  '*.apisecret',
  '*.*.apiSecret',
  'request.room',
  'room.pin',
  'room.token',
  'JoinToken',
  '*.JoinToken',
  '*.*.JoinToken',
  '*.*.*.JoinToken',
  'iceServers',
  '*.iceServers',
];

/** JSON logs to stdout (or `destination`), one line per event, secrets censored. */
export function createLogger(
  options: { level?: string; base?: Record<string, unknown>; destination?: NodeJS.WritableStream } = {},
): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'roomline', ...options.base },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination === undefined ? undefined : (options.destination as never),
  );
}
