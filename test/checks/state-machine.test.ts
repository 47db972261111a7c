/** Transitions, notifications and clock-dependent fields of the check state machine. */
import { describe, expect, it } from 'vitest';
import { breachedLevel, conditionMatches } from '../../runtime/checks/conditions.js';
import { describeCondition, evaluateCheck, initialState } from '../../runtime/checks/state-machine.js';
import type { CheckSpec, CheckState, Condition, Evaluation, Notification } from '../../runtime/checks/types.js';

const T0 = Date.parse('2026-01-05T10:00:00.000Z');
const MINUTE = 60_000;

/** Returns the controlled clock's time, `minutes` after T0. */
function at(minutes: number): Date {
  return new Date(T0 + minutes * MINUTE);
}

function iso(minutes: number): string {
  return at(minutes).toISOString();
}

function checkSpec(overrides: Partial<CheckSpec> = {}): CheckSpec {
  return {
    tool: 'queue-backlog',
    schedule: '*/20 * * * *',
    timezone: 'UTC',
    levels: { warning: { above: 1000 }, critical: { above: 5000 } },
    for: 1,
    recoverFor: 1,
    repeatMs: undefined,
    ...overrides,
  };
}

type Input = number | { error: string };

interface Step {
  minutes: number;
  state: CheckState;
  notifications: Notification[];
}

/** Feeds values (or errors) at the given minutes after T0, starting from a fresh state at T0. */
function replay(spec: CheckSpec, inputs: ReadonlyArray<readonly [minutes: number, input: Input]>, start: CheckState = initialState(at(0))): Step[] {
  let state = start;
  return inputs.map(([minutes, input]) => {
    const evaluation: Evaluation = typeof input === 'number' ? { kind: 'value', value: input } : { kind: 'error', message: input.error };
    const outcome = evaluateCheck(spec, state, evaluation, at(minutes));
    state = outcome.state;
    return { minutes, state: outcome.state, notifications: outcome.notifications };
  });
}

/** Feeds values every 20 minutes from T0. */
function every20(spec: CheckSpec, inputs: readonly Input[]): Step[] {
  return replay(
    spec,
    inputs.map((input, index) => [index * 20, input] as const),
  );
}

function kinds(steps: readonly Step[]): string[][] {
  return steps.map((step) => step.notifications.map((notification) => notification.kind));
}

function last<T>(items: readonly T[]): T {
  const item = items[items.length - 1];
  if (item === undefined) throw new Error('expected at least one item');
  return item;
}

describe('conditions', () => {
  it.each<[Condition, string]>([
    [{ above: 1000 }, 'above 1,000'],
    [{ below: 5 }, 'below 5'],
    [{ outside: [10, 20] }, 'outside 10 to 20'],
    [{ equals: 0 }, 'equal to 0'],
  ])('describeCondition %j', (condition, text) => {
    expect(describeCondition(condition)).toBe(text);
  });

  it.each<[Condition, number, boolean]>([
    [{ above: 1000 }, 1000, false],
    [{ above: 1000 }, 1000.5, true],
    [{ below: 5 }, 5, false],
    [{ below: 5 }, 4, true],
    [{ outside: [10, 20] }, 10, false],
    [{ outside: [10, 20] }, 20, false],
    [{ outside: [10, 20] }, 9, true],
    [{ outside: [10, 20] }, 21, true],
    [{ equals: 0 }, 0, true],
    [{ equals: 0 }, 1, false],
  ])('conditionMatches %j with %d', (condition, value, matches) => {
    expect(conditionMatches(condition, value)).toBe(matches);
  });

  it('critical wins when both levels match', () => {
    const spec = checkSpec();
    expect(breachedLevel(spec, 6000)?.level).toBe('critical');
    expect(breachedLevel(spec, 2000)?.level).toBe('warning');
    expect(breachedLevel(spec, 500)).toBeUndefined();
  });

  it('single level spec', () => {
    const spec = checkSpec({ levels: { critical: { equals: 0 } } });
    expect(breachedLevel(spec, 0)).toEqual({ level: 'critical', condition: { equals: 0 } });
    expect(breachedLevel(spec, 3)).toBeUndefined();
  });
});

describe('initial state', () => {
  it('starts ok with no history', () => {
    expect(initialState(at(0))).toEqual({
      status: 'ok',
      level: undefined,
      breaches: 0,
      recoveries: 0,
      since: iso(0),
      lastValue: undefined,
      lastEvaluatedAt: undefined,
      lastNotifiedAt: undefined,
      nextReminderAt: undefined,
      statusBeforeError: undefined,
      sinceBeforeError: undefined,
      lastError: undefined,
    });
  });
});

describe('ok and pending', () => {
  it('healthy value stays ok silently', () => {
    const [step] = every20(checkSpec(), [500]);
    expect(step?.notifications).toEqual([]);
    expect(step?.state.status).toBe('ok');
    expect(step?.state.since).toBe(iso(0));
    expect(step?.state.lastValue).toBe(500);
    expect(step?.state.lastEvaluatedAt).toBe(iso(0));
    expect(step?.state.lastNotifiedAt).toBeUndefined();
  });

  it('for 1 alerts on first breach', () => {
    const [step] = replay(checkSpec(), [[20, 1500]]);
    expect(step?.state.status).toBe('alerting');
    expect(step?.state.level).toBe('warning');
    expect(step?.state.breaches).toBe(1);
    expect(step?.state.since).toBe(iso(20));
    expect(step?.state.lastNotifiedAt).toBe(iso(20));
    expect(step?.notifications).toEqual([
      { kind: 'alert', tool: 'queue-backlog', level: 'warning', value: 1500, threshold: 'above 1,000', since: iso(20), nextReminderAt: undefined, error: undefined, at: iso(20) },
    ]);
  });

  it('alert carries first reminder time', () => {
    const [step] = replay(checkSpec({ repeatMs: 60 * MINUTE }), [[20, 1500]]);
    expect(step?.notifications[0]?.nextReminderAt).toBe(iso(80));
    expect(step?.state.nextReminderAt).toBe(iso(80));
  });

  it('value above both levels alerts critical', () => {
    const [step] = every20(checkSpec(), [7000]);
    expect(step?.state.level).toBe('critical');
    expect(step?.notifications[0]?.level).toBe('critical');
    expect(step?.notifications[0]?.threshold).toBe('above 5,000');
  });

  it('for 3 waits through pending', () => {
    const steps = every20(checkSpec({ for: 3 }), [1500, 1600, 1700]);
    expect(steps.map((step) => step.state.status)).toEqual(['pending', 'pending', 'alerting']);
    expect(steps.map((step) => step.state.breaches)).toEqual([1, 2, 3]);
    expect(kinds(steps)).toEqual([[], [], ['alert']]);
    expect(steps[0]?.state.since).toBe(iso(0));
    expect(steps[1]?.state.since).toBe(iso(0));
    expect(steps[2]?.state.since).toBe(iso(40));
    expect(steps[2]?.notifications[0]?.since).toBe(iso(40));
    expect(steps[2]?.notifications[0]?.value).toBe(1700);
  });

  it('pending follows level changes silently', () => {
    const steps = every20(checkSpec({ for: 3 }), [1500, 6000, 1700]);
    expect(steps.map((step) => step.state.level)).toEqual(['warning', 'critical', 'warning']);
    expect(kinds(steps)).toEqual([[], [], ['alert']]);
    expect(steps[2]?.notifications[0]?.level).toBe('warning');
  });

  it('healthy value while pending resets', () => {
    const steps = every20(checkSpec({ for: 3 }), [1500, 1600, 500, 1500, 1600]);
    expect(steps.map((step) => step.state.status)).toEqual(['pending', 'pending', 'ok', 'pending', 'pending']);
    expect(steps.map((step) => step.state.breaches)).toEqual([1, 2, 0, 1, 2]);
    expect(kinds(steps).flat()).toEqual([]);
    expect(steps[2]?.state.level).toBeUndefined();
    expect(steps[2]?.state.since).toBe(iso(40));
    expect(steps[3]?.state.since).toBe(iso(60));
  });

  it('other conditions alert with their wording', () => {
    const spec = checkSpec({ levels: { warning: { outside: [10, 20] }, critical: { below: 5 } } });
    const steps = every20(spec, [25, 3]);
    expect(steps[0]?.notifications[0]?.threshold).toBe('outside 10 to 20');
    expect(steps[1]?.notifications[0]?.kind).toBe('level_change');
    expect(steps[1]?.notifications[0]?.threshold).toBe('below 5');
  });
});

describe('flapping', () => {
  const hovering = [1500, 900, 1500, 900, 1500, 900, 1500, 900];

  it('for 1 recoverFor 1 alternates', () => {
    const steps = every20(checkSpec(), hovering);
    expect(kinds(steps)).toEqual([['alert'], ['recovery'], ['alert'], ['recovery'], ['alert'], ['recovery'], ['alert'], ['recovery']]);
  });

  it('for 3 stays silent', () => {
    const steps = every20(checkSpec({ for: 3 }), hovering);
    expect(kinds(steps).flat()).toEqual([]);
    expect(steps.map((step) => step.state.status)).toEqual(['pending', 'ok', 'pending', 'ok', 'pending', 'ok', 'pending', 'ok']);
  });

  it('for 2 stays silent', () => {
    const steps = every20(checkSpec({ for: 2 }), hovering);
    expect(kinds(steps).flat()).toEqual([]);
  });

  it('recoverFor damps alerting check', () => {
    const steps = every20(checkSpec({ recoverFor: 3 }), hovering);
    expect(kinds(steps)).toEqual([['alert'], [], [], [], [], [], [], []]);
    expect(last(steps).state.status).toBe('alerting');
  });
});

describe('recovery', () => {
  it('recoverFor 1 recovers on first healthy value', () => {
    const steps = every20(checkSpec(), [1500, 1600, 800]);
    expect(kinds(steps)).toEqual([['alert'], [], ['recovery']]);
    const recovery = steps[2]?.notifications[0];
    expect(recovery).toEqual({ kind: 'recovery', tool: 'queue-backlog', level: 'warning', value: 800, threshold: 'above 1,000', since: iso(0), nextReminderAt: undefined, error: undefined, at: iso(40) });
    expect(steps[2]?.state.status).toBe('ok');
    expect(steps[2]?.state.level).toBeUndefined();
    expect(steps[2]?.state.since).toBe(iso(40));
    expect(steps[2]?.state.nextReminderAt).toBeUndefined();
  });

  it('recoverFor 3 needs three healthy values', () => {
    const steps = every20(checkSpec({ recoverFor: 3, repeatMs: 60 * MINUTE }), [1500, 800, 800, 800]);
    expect(kinds(steps)).toEqual([['alert'], [], [], ['recovery']]);
    expect(steps.map((step) => step.state.recoveries)).toEqual([0, 1, 2, 0]);
    expect(steps.map((step) => step.state.status)).toEqual(['alerting', 'alerting', 'alerting', 'ok']);
    expect(steps[3]?.notifications[0]?.since).toBe(iso(0));
  });

  it('breach resets recoveries', () => {
    const steps = every20(checkSpec({ recoverFor: 3 }), [1500, 800, 800, 1500, 800, 800, 800]);
    expect(steps.map((step) => step.state.recoveries)).toEqual([0, 1, 2, 0, 1, 2, 0]);
    expect(kinds(steps)).toEqual([['alert'], [], [], [], [], [], ['recovery']]);
  });

  it('recovery of critical names critical threshold', () => {
    const steps = every20(checkSpec(), [9000, 10]);
    expect(steps[1]?.notifications[0]?.level).toBe('critical');
    expect(steps[1]?.notifications[0]?.threshold).toBe('above 5,000');
  });
});

describe('reminders', () => {
  const hourly = checkSpec({ repeatMs: 60 * MINUTE });

  it('remind exactly at interval', () => {
    const steps = every20(hourly, [1500, 1500, 1500, 1500, 1500, 1500, 1500]);
    expect(kinds(steps)).toEqual([['alert'], [], [], ['reminder'], [], [], ['reminder']]);
    expect(steps[3]?.notifications[0]).toEqual({
      kind: 'reminder',
      tool: 'queue-backlog',
      level: 'warning',
      value: 1500,
      threshold: 'above 1,000',
      since: iso(0),
      nextReminderAt: iso(120),
      error: undefined,
      at: iso(60),
    });
    expect(steps[6]?.notifications[0]?.nextReminderAt).toBe(iso(180));
    expect(steps[6]?.state.since).toBe(iso(0));
  });

  it('no reminder one millisecond early', () => {
    const [alert, early] = replay(hourly, [
      [0, 1500],
      [60 - 1 / MINUTE, 1500],
    ]);
    expect(alert?.state.nextReminderAt).toBe(iso(60));
    expect(early?.notifications).toEqual([]);
    expect(early?.state.nextReminderAt).toBe(iso(60));
  });

  it('late reminder restarts from now', () => {
    const steps = replay(hourly, [
      [0, 1500],
      [75, 1500],
      [130, 1500],
      [135, 1500],
    ]);
    expect(kinds(steps)).toEqual([['alert'], ['reminder'], [], ['reminder']]);
    expect(steps[1]?.notifications[0]?.nextReminderAt).toBe(iso(135));
  });

  it('no repeat means no reminders', () => {
    const steps = every20(checkSpec(), Array.from({ length: 20 }, () => 1500));
    expect(kinds(steps).flat()).toEqual(['alert']);
    expect(last(steps).state.nextReminderAt).toBeUndefined();
  });

  it('no reminder while recovering', () => {
    const steps = every20(checkSpec({ repeatMs: 20 * MINUTE, recoverFor: 3 }), [1500, 800, 800]);
    expect(kinds(steps)).toEqual([['alert'], [], []]);
  });

  it('repeat added while alerting starts counting', () => {
    const [alert] = every20(checkSpec(), [1500]);
    const later = replay(
      hourly,
      [
        [20, 1500],
        [60, 1500],
        [80, 1500],
      ],
      alert?.state,
    );
    expect(later[0]?.state.nextReminderAt).toBe(iso(80));
    expect(kinds(later)).toEqual([[], [], ['reminder']]);
  });
});

describe('level changes', () => {
  const hourly = checkSpec({ repeatMs: 60 * MINUTE });

  it('warning to critical', () => {
    const steps = every20(hourly, [1500, 6000]);
    expect(kinds(steps)).toEqual([['alert'], ['level_change']]);
    expect(steps[1]?.notifications[0]).toEqual({
      kind: 'level_change',
      tool: 'queue-backlog',
      level: 'critical',
      value: 6000,
      threshold: 'above 5,000',
      since: iso(0),
      nextReminderAt: iso(80),
      error: undefined,
      at: iso(20),
    });
    expect(steps[1]?.state.level).toBe('critical');
    expect(steps[1]?.state.status).toBe('alerting');
    expect(steps[1]?.state.since).toBe(iso(0));
  });

  it('critical to warning', () => {
    const steps = every20(hourly, [6000, 1500]);
    expect(kinds(steps)).toEqual([['alert'], ['level_change']]);
    expect(steps[1]?.notifications[0]?.level).toBe('warning');
    expect(steps[1]?.notifications[0]?.threshold).toBe('above 1,000');
    expect(steps[1]?.state.level).toBe('warning');
  });

  it('level change restarts reminder clock', () => {
    const steps = every20(hourly, [1500, 1500, 6000, 6000, 6000, 6000]);
    // Without the level change the reminder was due at 60; after it, the next one is due at 100.
    expect(kinds(steps)).toEqual([['alert'], [], ['level_change'], [], [], ['reminder']]);
    expect(steps[2]?.state.nextReminderAt).toBe(iso(100));
  });

  it('level change resets recoveries', () => {
    const steps = every20(checkSpec({ recoverFor: 2 }), [1500, 800, 6000, 800, 800]);
    expect(kinds(steps)).toEqual([['alert'], [], ['level_change'], [], ['recovery']]);
    expect(steps[4]?.notifications[0]?.level).toBe('critical');
  });
});

describe('errors', () => {
  const broken = { error: 'connection refused' } as const;

  it('error from ok', () => {
    const steps = every20(checkSpec(), [500, broken]);
    expect(steps[1]?.state.status).toBe('error');
    expect(steps[1]?.state.statusBeforeError).toBe('ok');
    expect(steps[1]?.state.sinceBeforeError).toBe(iso(0));
    expect(steps[1]?.state.since).toBe(iso(20));
    expect(steps[1]?.state.lastError).toBe('connection refused');
    expect(steps[1]?.state.lastValue).toBe(500);
    expect(steps[1]?.notifications).toEqual([
      { kind: 'error', tool: 'queue-backlog', level: undefined, value: undefined, threshold: undefined, since: iso(20), nextReminderAt: undefined, error: 'connection refused', at: iso(20) },
    ]);
  });

  it('repeated errors stay silent', () => {
    const steps = every20(checkSpec({ repeatMs: 20 * MINUTE }), [broken, broken, { error: 'timed out' }, broken]);
    expect(kinds(steps)).toEqual([['error'], [], [], []]);
    expect(steps[2]?.state.lastError).toBe('timed out');
    expect(last(steps).state.since).toBe(iso(0));
    expect(last(steps).state.lastNotifiedAt).toBe(iso(0));
    expect(last(steps).state.lastEvaluatedAt).toBe(iso(60));
  });

  it('error to healthy from ok', () => {
    const steps = every20(checkSpec(), [500, broken, broken, 600]);
    expect(kinds(steps)).toEqual([[], ['error'], [], ['error_cleared']]);
    expect(steps[3]?.notifications[0]).toEqual({
      kind: 'error_cleared',
      tool: 'queue-backlog',
      level: undefined,
      value: 600,
      threshold: undefined,
      since: iso(20),
      nextReminderAt: undefined,
      error: 'connection refused',
      at: iso(60),
    });
    expect(steps[3]?.state.status).toBe('ok');
    expect(steps[3]?.state.since).toBe(iso(0));
    expect(steps[3]?.state.statusBeforeError).toBeUndefined();
    expect(steps[3]?.state.sinceBeforeError).toBeUndefined();
    expect(steps[3]?.state.lastError).toBeUndefined();
  });

  it('error to breach from ok alerts', () => {
    const steps = every20(checkSpec(), [broken, 1500]);
    expect(kinds(steps)).toEqual([['error'], ['error_cleared', 'alert']]);
    expect(steps[1]?.notifications[1]?.since).toBe(iso(20));
  });

  it('error keeps pending breaches', () => {
    const steps = every20(checkSpec({ for: 3 }), [1500, 1600, broken, 1700]);
    expect(steps[2]?.state.statusBeforeError).toBe('pending');
    expect(steps[2]?.state.breaches).toBe(2);
    expect(kinds(steps)).toEqual([[], [], ['error'], ['error_cleared', 'alert']]);
    expect(steps[3]?.state.status).toBe('alerting');
    expect(steps[3]?.state.breaches).toBe(3);
  });

  it('error from pending to healthy', () => {
    const steps = every20(checkSpec({ for: 3 }), [1500, broken, 500]);
    expect(kinds(steps)).toEqual([[], ['error'], ['error_cleared']]);
    expect(steps[2]?.state.status).toBe('ok');
    expect(steps[2]?.state.breaches).toBe(0);
  });

  it('error while alerting keeps the alert', () => {
    const steps = every20(checkSpec({ repeatMs: 60 * MINUTE }), [1500, broken, broken]);
    expect(steps[1]?.state.statusBeforeError).toBe('alerting');
    expect(steps[1]?.state.level).toBe('warning');
    expect(steps[1]?.state.nextReminderAt).toBe(iso(60));
    expect(kinds(steps)).toEqual([['alert'], ['error'], []]);
  });

  it('error to healthy never emits recovery', () => {
    const steps = every20(checkSpec({ recoverFor: 1 }), [1500, broken, 800, 800]);
    expect(kinds(steps)).toEqual([['alert'], ['error'], ['error_cleared'], ['recovery']]);
    expect(steps[2]?.state.status).toBe('alerting');
    expect(steps[2]?.state.since).toBe(iso(0));
    expect(steps[2]?.state.recoveries).toBe(1);
    expect(steps[3]?.notifications[0]?.since).toBe(iso(0));
  });

  it('healthy value after error counts toward recovery', () => {
    const steps = every20(checkSpec({ recoverFor: 2 }), [1500, broken, 800, 800]);
    expect(kinds(steps)).toEqual([['alert'], ['error'], ['error_cleared'], ['recovery']]);
    expect(steps[2]?.state.recoveries).toBe(1);
  });

  it('error keeps recoveries counted before it', () => {
    const steps = every20(checkSpec({ recoverFor: 3 }), [1500, 800, broken, 800, 800]);
    expect(steps.map((step) => step.state.recoveries)).toEqual([0, 1, 1, 2, 0]);
    expect(kinds(steps)).toEqual([['alert'], [], ['error'], ['error_cleared'], ['recovery']]);
  });

  it('error to breach sends due reminder', () => {
    const steps = every20(checkSpec({ repeatMs: 60 * MINUTE }), [1500, broken, broken, broken, 1500]);
    expect(kinds(steps)).toEqual([['alert'], ['error'], [], [], ['error_cleared', 'reminder']]);
    expect(steps[4]?.notifications[1]?.since).toBe(iso(0));
    expect(steps[4]?.notifications[1]?.nextReminderAt).toBe(iso(140));
  });

  it('error to other level sends level change', () => {
    const steps = every20(checkSpec(), [1500, broken, 6000]);
    expect(kinds(steps)).toEqual([['alert'], ['error'], ['error_cleared', 'level_change']]);
  });

  it('NaN value counts as error', () => {
    const steps = every20(checkSpec(), [1500, Number.NaN]);
    expect(kinds(steps)).toEqual([['alert'], ['error']]);
    expect(steps[1]?.state.lastError).toMatch(/NaN/);
    expect(steps[1]?.state.lastValue).toBe(1500);
  });
});

describe('spec edge values', () => {
  it('for 0 counts as 1', () => {
    const steps = every20(checkSpec({ for: 0, recoverFor: 0 }), [1500, 800]);
    expect(kinds(steps)).toEqual([['alert'], ['recovery']]);
  });

  it('input state is not mutated', () => {
    const start = initialState(at(0));
    const copy = structuredClone(start);
    evaluateCheck(checkSpec(), start, { kind: 'value', value: 1500 }, at(20));
    expect(start).toEqual(copy);
  });
});
