/**
 * Every error a runner can see, declared once with its code and HTTP status, so that surfaces and
 * tests match on the code and never on message text. The message is for the person running the
 * tool; `detail` is for the engineer and only ever goes to the log.
 */

export const ERROR_STATUS = {
  TOOLSHED_ERR_UNAUTHORIZED: 401,
  TOOLSHED_ERR_FORBIDDEN: 403,
  TOOLSHED_ERR_TOOL_NOT_FOUND: 404,
  TOOLSHED_ERR_ROUTE_NOT_FOUND: 404,
  TOOLSHED_ERR_METHOD_NOT_ALLOWED: 405,
  TOOLSHED_ERR_INVALID_INPUT: 400,
  TOOLSHED_ERR_INVALID_REQUEST: 400,
  TOOLSHED_ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  TOOLSHED_ERR_BODY_TOO_LARGE: 413,
  TOOLSHED_ERR_ROW_GUARD: 409,
  TOOLSHED_ERR_CONFIRMATION_INVALID: 409,
  TOOLSHED_ERR_APPROVAL_NOT_FOUND: 404,
  TOOLSHED_ERR_RATE_LIMITED: 429,
  TOOLSHED_ERR_AUDIT_UNAVAILABLE: 503,
  TOOLSHED_ERR_TOO_MANY_ROWS: 500,
  TOOLSHED_ERR_STEP_FAILED: 500,
  TOOLSHED_ERR_RENDER_FAILED: 500,
  TOOLSHED_ERR_INTERNAL: 500,
  TOOLSHED_ERR_DB_UNAVAILABLE: 503,
  TOOLSHED_ERR_TIMEOUT: 504,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** One invalid input, keyed by the input's name. */
export interface FieldError {
  field: string;
  message: string;
}

export class ToolshedError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly fields: FieldError[] | undefined;
  /** Engineer-facing detail (driver message, SQL state); logged, never returned. */
  readonly detail: string | undefined;
  /** For rate limits: when the runner may try again. */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, options: { fields?: FieldError[]; detail?: string; cause?: unknown; retryAfterSeconds?: number } = {}) {
    super(message, { cause: options.cause });
    this.name = 'ToolshedError';
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.fields = options.fields;
    this.detail = options.detail;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** Turns anything thrown into a ToolshedError whose message is safe to show a runner. */
export function toToolshedError(error: unknown): ToolshedError {
  if (error instanceof ToolshedError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new ToolshedError('TOOLSHED_ERR_INTERNAL', 'Something went wrong inside toolshed. Share the run id with whoever runs toolshed.', { detail, cause: error });
}
