/**
 * Posts deferred responses to a slash command's response_url. Only hosts in the configured list are
 * accepted, so a forged or altered URL cannot make toolshed send requests elsewhere. Slack accepts
 * at most five posts per response_url within 30 minutes; toolshed posts each response once and
 * retries only failures that did not reach Slack.
 */
import type { Logger } from 'pino';
import type { SlackMessage } from './blocks.js';

/** Slack's limit on posts to one response_url. */
export const MAX_POSTS_PER_RESPONSE_URL = 5;
const POST_TIMEOUT_MS = 5_000;
const RETRY_DELAYS_MS = [250, 1_000];
/** How long a response_url's post count is remembered: Slack's validity window. */
const RESPONSE_URL_LIFETIME_MS = 30 * 60_000;

export class ResponseUrlClient {
  private readonly posts = new Map<string, { count: number; firstAt: number }>();

  constructor(
    private readonly allowedHosts: readonly string[],
    private readonly logger: Logger,
  ) {}

  /** Returns whether toolshed may post to this URL: https to an allowed host, or http to an allowed loopback host. */
  isAllowed(responseUrl: string): boolean {
    let url: URL;
    try {
      url = new URL(responseUrl);
    } catch {
      return false;
    }
    if (url.username !== '' || url.password !== '') return false;
    const loopback = url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) return false;
    return this.allowedHosts.includes(url.host) || this.allowedHosts.includes(url.hostname);
  }

  /** Posts a message and returns whether Slack accepted it. Failures are logged and returned as false, not thrown. */
  async post(responseUrl: string, message: SlackMessage | Record<string, unknown>, runId: string): Promise<boolean> {
    if (!this.isAllowed(responseUrl)) {
      this.logger.warn({ run_id: runId }, 'response_url host is not in slack.response_url_hosts; deferred response not sent');
      return false;
    }
    if (!this.reserve(responseUrl)) {
      this.logger.warn({ run_id: runId }, `response_url already used ${MAX_POSTS_PER_RESPONSE_URL} times; deferred response not sent`);
      return false;
    }
    for (let attempt = 0; attempt <= RETRY_DELAYS_MS.length; attempt += 1) {
      try {
        const response = await fetch(responseUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json; charset=utf-8' },
          body: JSON.stringify(message),
          signal: AbortSignal.timeout(POST_TIMEOUT_MS),
        });
        if (response.ok) return true;
        // 4xx means Slack read the request and refused it; sending it again would not help.
        if (response.status < 500) {
          this.logger.warn({ run_id: runId, status: response.status }, 'Slack rejected the deferred response');
          return false;
        }
        this.logger.warn({ run_id: runId, status: response.status, attempt }, 'posting the deferred response failed; retrying');
      } catch (error) {
        this.logger.warn({ run_id: runId, detail: (error as Error).message, attempt }, 'posting the deferred response failed; retrying');
      }
      const delay = RETRY_DELAYS_MS[attempt];
      if (delay !== undefined) await new Promise((resolve) => setTimeout(resolve, delay));
    }
    this.logger.error({ run_id: runId }, 'posting the deferred response to Slack failed after every retry');
    return false;
  }

  private reserve(responseUrl: string): boolean {
    const now = Date.now();
    for (const [url, entry] of this.posts) if (now - entry.firstAt > RESPONSE_URL_LIFETIME_MS) this.posts.delete(url);
    const entry = this.posts.get(responseUrl) ?? { count: 0, firstAt: now };
    if (entry.count >= MAX_POSTS_PER_RESPONSE_URL) return false;
    entry.count += 1;
    this.posts.set(responseUrl, entry);
    return true;
  }
}
