/** The error a notifier throws when its destination responds with a failure, and whether a retry may help. */

export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';

  constructor(
    message: string,
    /** False when the destination read the request and rejected it, so sending it again would fail the same way. */
    readonly retryable: boolean,
    /** HTTP status of the response, when there was one. */
    readonly status?: number,
  ) {
    super(message);
  }
}

/** Returns true for the HTTP statuses worth retrying, 5xx and 429. Other 4xx and 3xx statuses are not retried. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429;
}

/** Describes why a fetch failed, such as "ECONNREFUSED" or "timed out after 5000 ms", without the URL. */
export function describeFetchError(error: unknown, timeoutMs: number): string {
  if (error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `timed out after ${timeoutMs} ms`;
  }
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: unknown }).cause;
    if (cause instanceof Error) {
      const code = (cause as Error & { code?: unknown }).code;
      return typeof code === 'string' ? code : cause.message;
    }
    return error.message;
  }
  return String(error);
}
