/** The in-process scheduler of checks: one timer per check, fired at each slot of its schedule. */
import type { Logger } from 'pino';
import { nextSlot } from './schedule.js';
import type { CheckSpec } from './types.js';

/** The time source and timers the scheduler uses; tests pass a fake one. */
export interface SchedulerClock {
  now(): Date;
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface SchedulerOptions {
  checks: readonly CheckSpec[];
  /** Runs one check for one slot. A rejection is logged, and the check keeps its schedule. */
  run: (spec: CheckSpec, slot: Date) => Promise<void>;
  logger: Logger;
  /** Default: the system clock and the global timers, looked up at each call so fake timers apply. */
  clock?: SchedulerClock;
}

/** setTimeout's largest delay (2^31 - 1 ms, about 24.8 days); Node.js fires a larger one after 1 ms. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

const systemClock: SchedulerClock = {
  now: () => new Date(),
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * Fires each check at the slots of its schedule. The first slot is the next one after `start()`,
 * so slots missed while the process was down are not replayed, and neither are slots that passed
 * while the event loop was blocked. When a slot comes while the check's previous run is still
 * going, that slot is skipped and logged, so runs of one check never overlap.
 */
export class Scheduler {
  private readonly clock: SchedulerClock;
  private readonly timers = new Map<string, unknown>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly nextSlots = new Map<string, Date>();
  private started = false;

  constructor(private readonly options: SchedulerOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /** Arms a timer for each check's next slot. A check whose schedule has no next slot is logged and left out. */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (const spec of this.options.checks) this.armAfter(spec, this.clock.now());
  }

  /** Clears every timer, then waits for runs already going to finish. */
  async stop(): Promise<void> {
    this.started = false;
    for (const handle of this.timers.values()) this.clock.clearTimeout(handle);
    this.timers.clear();
    this.nextSlots.clear();
    await Promise.allSettled([...this.running.values()]);
  }

  /** Returns the slot each check's timer is armed for, by tool name. */
  scheduledSlots(): ReadonlyMap<string, Date> {
    return new Map(this.nextSlots);
  }

  /** Returns the tool names of the checks whose run is going now. */
  runningChecks(): string[] {
    return [...this.running.keys()];
  }

  private armAfter(spec: CheckSpec, after: Date): void {
    let slot: Date;
    try {
      slot = nextSlot(spec.schedule, spec.timezone, after);
    } catch (error) {
      this.options.logger.error({ tool: spec.tool, schedule: spec.schedule, timezone: spec.timezone, err: error }, 'check not scheduled: its schedule has no next slot');
      return;
    }
    this.nextSlots.set(spec.tool, slot);
    this.armTimer(spec, slot);
  }

  /** Sets the timer for `slot`, in steps of at most MAX_TIMER_DELAY_MS when the slot is further away. */
  private armTimer(spec: CheckSpec, slot: Date): void {
    const delayMs = Math.max(0, slot.getTime() - this.clock.now().getTime());
    const step = Math.min(delayMs, MAX_TIMER_DELAY_MS);
    const handle = this.clock.setTimeout(() => {
      this.timers.delete(spec.tool);
      if (!this.started) return;
      if (step < delayMs) this.armTimer(spec, slot);
      else this.fire(spec, slot);
    }, step);
    this.timers.set(spec.tool, handle);
  }

  private fire(spec: CheckSpec, slot: Date): void {
    // Arms the next slot first, so a long run does not delay it. A timer that fired late does not
    // replay the slots it passed: the next slot comes after the current time.
    const now = this.clock.now();
    this.armAfter(spec, now.getTime() > slot.getTime() ? now : slot);

    if (this.running.has(spec.tool)) {
      this.options.logger.warn({ tool: spec.tool, slot: slot.toISOString() }, 'check slot skipped: the previous run of this check is still going');
      return;
    }

    const run = this.runOnce(spec, slot);
    this.running.set(spec.tool, run);
    void run.finally(() => this.running.delete(spec.tool));
  }

  private async runOnce(spec: CheckSpec, slot: Date): Promise<void> {
    try {
      await this.options.run(spec, slot);
    } catch (error) {
      this.options.logger.error({ tool: spec.tool, slot: slot.toISOString(), err: error }, 'check run failed');
    }
  }
}
