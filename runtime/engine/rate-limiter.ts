/**
 * Rate limits per principal and tool, as token buckets kept in memory. Each replica counts on its
 * own, so N replicas allow up to N times the rate.
 */

/** Buckets not touched for this long are forgotten. */
const IDLE_MS = 10 * 60_000;

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private sweptAt = 0;

  /**
   * Takes one run from the principal's bucket for the tool. Returns 0 when allowed, otherwise the
   * whole seconds to wait.
   */
  take(principal: string, tool: string, perMinute: number, now = Date.now()): number {
    this.sweep(now);
    const key = `${principal}\u0000${tool}`;
    const refillPerMs = perMinute / 60_000;
    const bucket = this.buckets.get(key) ?? { tokens: perMinute, updatedAt: now };
    bucket.tokens = Math.min(perMinute, bucket.tokens + (now - bucket.updatedAt) * refillPerMs);
    bucket.updatedAt = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / refillPerMs / 1000));
  }

  private sweep(now: number): void {
    if (now - this.sweptAt < IDLE_MS) return;
    this.sweptAt = now;
    for (const [key, bucket] of this.buckets) if (now - bucket.updatedAt > IDLE_MS) this.buckets.delete(key);
  }
}
