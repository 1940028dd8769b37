import pino from 'pino';

export type Logger = pino.Logger;

/** Field names whose values never reach a log line, wherever they appear. */
const REDACT = [
  'password',
  'token',
  'access_token',
  'refresh_token',
  'secret',
  'authorization',
  'kek',
  '*.password',
  '*.token',
  '*.access_token',
  '*.refresh_token',
  '*.secret',
  '*.authorization',
  'req.headers.authorization',
  'headers.authorization',
];

export function createLogger(level: string = 'info', destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'mero-auth' },
      redact: { paths: REDACT, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // `"level":"info"`, not pino's number: what a log pipeline filters on without a lookup table.
      formatters: { level: (label) => ({ level: label }) },
    },
    // Synchronous: the service logs events, not requests, and a line written just before an exit
    // (shutdown, a startup failure) must not be lost in a buffer.
    destination ?? pino.destination({ dest: 2, sync: true }),
  );
}

export const silentLogger: Logger = pino({ level: 'silent' });

/** Key ids are credentials-adjacent: log only a prefix. */
export function shortId(id: string): string {
  return id.length <= 8 ? id : `${id.slice(0, 8)}…`;
}

/** Control characters escaped, capped at 256 characters (wire §8.3, logs). */
export function logSafe(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  const escaped = s.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return escaped.length > 256 ? `${escaped.slice(0, 256)}…` : escaped;
}
