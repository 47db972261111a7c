/** The check scheduler driven by fake timers and a manual clock: firing, skipping overlaps, stopping. */
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_DELAY_MS, Scheduler, type SchedulerClock } from '../../runtime/checks/scheduler.js';
import type { CheckSpec } from '../../runtime/checks/types.js';

const MINUTE = 60_000;

function checkSpec(tool: string, schedule = '*/20 * * * *', timezone = 'UTC'): CheckSpec {
  return { tool, schedule, timezone, levels: { warning: { above: 1000 } }, for: 1, recoverFor: 1, repeatMs: undefined };
}

function memoryLogger(): { logger: pino.Logger; entries: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (chunk: string) => chunks.push(chunk) });
  return { logger, entries: () => chunks.map((chunk) => JSON.parse(chunk) as Record<string, unknown>) };
}

/** Creates a promise with its resolve and reject, for runs that finish when the test resolves them. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((resolvePromise, rejectPromise) => {
    resolve = resolvePromise;
    reject = rejectPromise;
  });
  return { promise, resolve, reject };
}

/** A clock whose time moves only when the test moves it. Timers fire in order of due time. */
class ManualClock implements SchedulerClock {
  readonly delays: number[] = [];
  private readonly timers = new Map<number, { dueAt: number; callback: () => void }>();
  private nextId = 1;

  constructor(private current: number) {}

  now(): Date {
    return new Date(this.current);
  }

  setTimeout(callback: () => void, delayMs: number): number {
    const id = this.nextId++;
    this.timers.set(id, { dueAt: this.current + delayMs, callback });
    this.delays.push(delayMs);
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward without firing anything, as when the event loop was blocked. */
  jumpTo(time: number): void {
    this.current = time;
  }

  /** Fires the earliest timer, moving time to its due time unless time is already past it. */
  fireNext(): void {
    const [id, timer] = [...this.timers.entries()].sort((a, b) => a[1].dueAt - b[1].dueAt)[0] ?? [];
    if (id === undefined || timer === undefined) throw new Error('no timer is armed');
    this.timers.delete(id);
    this.current = Math.max(this.current, timer.dueAt);
    timer.callback();
  }
}

describe('scheduler with fake timers', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires at the slot, not before', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-05T10:05:00.000Z') });
    const slots: string[] = [];
    const scheduler = new Scheduler({ checks: [checkSpec('queue-backlog')], run: async (_spec, slot) => void slots.push(slot.toISOString()), logger: memoryLogger().logger });
    scheduler.start();
    expect(scheduler.scheduledSlots().get('queue-backlog')?.toISOString()).toBe('2026-01-05T10:20:00.000Z');

    await vi.advanceTimersByTimeAsync(15 * MINUTE - 1);
    expect(slots).toEqual([]);

    await vi.advanceTimersByTimeAsync(1);
    expect(slots).toEqual(['2026-01-05T10:20:00.000Z']);
    expect(scheduler.scheduledSlots().get('queue-backlog')?.toISOString()).toBe('2026-01-05T10:40:00.000Z');
    await scheduler.stop();
  });

  it('re-arms after each slot', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-05T10:05:00.000Z') });
    const calls: Array<[string, string]> = [];
    const scheduler = new Scheduler({
      checks: [checkSpec('queue-backlog'), checkSpec('hourly', '0 * * * *')],
      run: async (spec, slot) => void calls.push([spec.tool, slot.toISOString()]),
      logger: memoryLogger().logger,
    });
    scheduler.start();
    await vi.advanceTimersByTimeAsync(60 * MINUTE);
    expect(calls).toEqual([
      ['queue-backlog', '2026-01-05T10:20:00.000Z'],
      ['queue-backlog', '2026-01-05T10:40:00.000Z'],
      ['hourly', '2026-01-05T11:00:00.000Z'],
      ['queue-backlog', '2026-01-05T11:00:00.000Z'],
    ]);
    expect(vi.getTimerCount()).toBe(2);
    await scheduler.stop();
  });

  it('skips slot while previous run is going', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-05T10:05:00.000Z') });
    const { logger, entries } = memoryLogger();
    const slots: string[] = [];
    const runs: Array<ReturnType<typeof deferred>> = [];
    const scheduler = new Scheduler({
      checks: [checkSpec('queue-backlog')],
      run: (_spec, slot) => {
        slots.push(slot.toISOString());
        const run = deferred();
        runs.push(run);
        return run.promise;
      },
      logger,
    });
    scheduler.start();

    await vi.advanceTimersByTimeAsync(15 * MINUTE);
    expect(slots).toEqual(['2026-01-05T10:20:00.000Z']);
    expect(scheduler.runningChecks()).toEqual(['queue-backlog']);

    await vi.advanceTimersByTimeAsync(20 * MINUTE);
    expect(slots).toEqual(['2026-01-05T10:20:00.000Z']);
    const skipped = entries().find((entry) => entry.msg === 'check slot skipped: the previous run of this check is still going');
    expect(skipped?.tool).toBe('queue-backlog');
    expect(skipped?.slot).toBe('2026-01-05T10:40:00.000Z');

    runs[0]?.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(scheduler.runningChecks()).toEqual([]);

    await vi.advanceTimersByTimeAsync(20 * MINUTE);
    expect(slots).toEqual(['2026-01-05T10:20:00.000Z', '2026-01-05T11:00:00.000Z']);
    runs[1]?.resolve();
    await scheduler.stop();
  });

  it('slow check does not block others', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-05T10:05:00.000Z') });
    const calls: string[] = [];
    const scheduler = new Scheduler({
      checks: [checkSpec('slow'), checkSpec('fast')],
      run: (spec) => {
        calls.push(spec.tool);
        return spec.tool === 'slow' ? new Promise<void>(() => undefined) : Promise.resolve();
      },
      logger: memoryLogger().logger,
    });
    scheduler.start();
    await vi.advanceTimersByTimeAsync(35 * MINUTE);
    expect(calls).toEqual(['slow', 'fast', 'fast']);
    void scheduler.stop();
  });

  it('failed run is logged and schedule continues', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-05T10:05:00.000Z') });
    const { logger, entries } = memoryLogger();
    let calls = 0;
    const scheduler = new Scheduler({
      checks: [checkSpec('queue-backlog')],
      run: async () => {
        calls += 1;
        throw new Error('mongo unreachable');
      },
      logger,
    });
    scheduler.start();
    await vi.advanceTimersByTimeAsync(35 * MINUTE);
    expect(calls).toBe(2);
    const failures = entries().filter((entry) => entry.msg === 'check run failed');
    expect(failures).toHaveLength(2);
    expect((failures[0]?.err as { message: string }).message).toBe('mongo unreachable');
    expect(failures[0]?.slot).toBe('2026-01-05T10:20:00.000Z');
    await scheduler.stop();
  });

  it('stop clears timers', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-05T10:05:00.000Z') });
    const run = vi.fn(async () => undefined);
    const scheduler = new Scheduler({ checks: [checkSpec('a'), checkSpec('b')], run, logger: memoryLogger().logger });
    scheduler.start();
    expect(vi.getTimerCount()).toBe(2);
    await scheduler.stop();
    expect(vi.getTimerCount()).toBe(0);
    expect(scheduler.scheduledSlots().size).toBe(0);
    await vi.advanceTimersByTimeAsync(120 * MINUTE);
    expect(run).not.toHaveBeenCalled();
  });

  it('stop waits for running runs', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-05T10:05:00.000Z') });
    const run = deferred();
    const scheduler = new Scheduler({ checks: [checkSpec('queue-backlog')], run: () => run.promise, logger: memoryLogger().logger });
    scheduler.start();
    await vi.advanceTimersByTimeAsync(15 * MINUTE);

    let stopped = false;
    const stopping = scheduler.stop().then(() => {
      stopped = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    expect(vi.getTimerCount()).toBe(0);

    run.resolve();
    await stopping;
    expect(stopped).toBe(true);
  });

  it('check without next slot is logged and skipped', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-05T10:05:00.000Z') });
    const { logger, entries } = memoryLogger();
    const scheduler = new Scheduler({ checks: [checkSpec('never', '0 0 30 2 *'), checkSpec('queue-backlog')], run: async () => undefined, logger });
    scheduler.start();
    expect([...scheduler.scheduledSlots().keys()]).toEqual(['queue-backlog']);
    expect(entries().find((entry) => entry.msg === 'check not scheduled: its schedule has no next slot')?.tool).toBe('never');
    await scheduler.stop();
  });

  it('fires a slot months away exactly', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-05T10:05:00.000Z') });
    const slots: string[] = [];
    const scheduler = new Scheduler({ checks: [checkSpec('yearly', '0 0 1 1 *')], run: async (_spec, slot) => void slots.push(slot.toISOString()), logger: memoryLogger().logger });
    scheduler.start();
    const delay = Date.parse('2027-01-01T00:00:00.000Z') - Date.now();
    expect(delay).toBeGreaterThan(MAX_TIMER_DELAY_MS);

    await vi.advanceTimersByTimeAsync(delay - 1);
    expect(slots).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(slots).toEqual(['2027-01-01T00:00:00.000Z']);
    await scheduler.stop();
  });
});

describe('scheduler with manual clock', () => {
  it('long delay is armed in steps', () => {
    const clock = new ManualClock(Date.parse('2026-01-05T10:05:00.000Z'));
    const slots: string[] = [];
    const scheduler = new Scheduler({ checks: [checkSpec('yearly', '0 0 1 1 *')], run: async (_spec, slot) => void slots.push(slot.toISOString()), logger: memoryLogger().logger, clock });
    scheduler.start();
    const total = Date.parse('2027-01-01T00:00:00.000Z') - Date.parse('2026-01-05T10:05:00.000Z');
    const steps = Math.ceil(total / MAX_TIMER_DELAY_MS);
    expect(steps).toBeGreaterThan(1);

    for (let step = 1; step < steps; step++) {
      clock.fireNext();
      expect(slots).toEqual([]);
    }
    clock.fireNext();
    expect(slots).toEqual(['2027-01-01T00:00:00.000Z']);
    expect(clock.delays.slice(0, steps - 1).every((delay) => delay === MAX_TIMER_DELAY_MS)).toBe(true);
    expect(clock.delays[steps - 1]).toBe(total - (steps - 1) * MAX_TIMER_DELAY_MS);
    void scheduler.stop();
  });

  it('late timer does not replay missed slots', () => {
    const clock = new ManualClock(Date.parse('2026-01-05T10:05:00.000Z'));
    const slots: string[] = [];
    const scheduler = new Scheduler({ checks: [checkSpec('queue-backlog')], run: async (_spec, slot) => void slots.push(slot.toISOString()), logger: memoryLogger().logger, clock });
    scheduler.start();

    // The process was suspended from 10:05 to 11:10, so the 10:20 timer fires 50 minutes late.
    clock.jumpTo(Date.parse('2026-01-05T11:10:00.000Z'));
    clock.fireNext();
    expect(slots).toEqual(['2026-01-05T10:20:00.000Z']);
    expect(scheduler.scheduledSlots().get('queue-backlog')?.toISOString()).toBe('2026-01-05T11:20:00.000Z');
    expect(clock.pending).toBe(1);
    void scheduler.stop();
  });

  it('start twice arms once', () => {
    const clock = new ManualClock(Date.parse('2026-01-05T10:05:00.000Z'));
    const scheduler = new Scheduler({ checks: [checkSpec('queue-backlog')], run: async () => undefined, logger: memoryLogger().logger, clock });
    scheduler.start();
    scheduler.start();
    expect(clock.pending).toBe(1);
    void scheduler.stop();
    expect(clock.pending).toBe(0);
  });

  it('first slot follows start time', () => {
    // Slots before start are not replayed: starting at 10:21 waits for 10:40.
    const clock = new ManualClock(Date.parse('2026-01-05T10:21:00.000Z'));
    const scheduler = new Scheduler({ checks: [checkSpec('queue-backlog')], run: async () => undefined, logger: memoryLogger().logger, clock });
    scheduler.start();
    expect(clock.delays).toEqual([19 * MINUTE]);
    void scheduler.stop();
  });
});
