/** The pino logger every part of toolshed logs through, with secrets redacted. */
import pino, { type DestinationStream, type Logger } from 'pino';

/** Paths pino replaces with [redacted] wherever they appear in a log entry. */
const REDACTED_PATHS = ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', '*.key', '*.password', '*.secret', '*.signing_secret', '*.token'];

export interface LoggerOptions {
  level?: string;
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const settings = { level: options.level ?? process.env.TOOLSHED_LOG_LEVEL ?? 'info', base: { service: 'toolshed' }, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
  return options.destination === undefined ? pino(settings) : pino(settings, options.destination);
}
