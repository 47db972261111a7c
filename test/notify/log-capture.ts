/** A pino logger that keeps its output in memory, so tests can read what was logged. */
import type { Logger } from 'pino';

import { createLogger } from '../../runtime/logger.js';

export interface CapturedLog {
  logger: Logger;
  /** Every line written so far, as raw JSON text. */
  lines: string[];
  /** The lines parsed as JSON objects. */
  entries(): Array<Record<string, unknown>>;
}

export function captureLog(): CapturedLog {
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => lines.push(line) } });
  return { logger, lines, entries: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}
