/** Slot computation across daylight saving time changes, and schedule validation. */
import { describe, expect, it } from 'vitest';
import { nextSlot, validateSchedule } from '../../runtime/checks/schedule.js';

const NEW_YORK = 'America/New_York';

/** Lists every slot in [from, to] by asking for the next slot after the previous one. */
function slotsBetween(schedule: string, timezone: string, from: string, to: string): string[] {
  const end = Date.parse(to);
  const slots: string[] = [];
  let after = new Date(Date.parse(from) - 1);
  for (;;) {
    const slot = nextSlot(schedule, timezone, after);
    if (slot.getTime() > end) return slots;
    slots.push(slot.toISOString());
    if (slots.length > 1000) throw new Error('too many slots: the schedule is not advancing');
    after = slot;
  }
}

describe('fall back in New York', () => {
  // 2026-11-01: 02:00 EDT (06:00Z) becomes 01:00 EST, so 01:00-02:00 local happens twice.
  // The window is 00:00 EDT (04:00Z) to 03:00 EST (08:00Z).
  const from = '2026-11-01T04:00:00.000Z';
  const to = '2026-11-01T08:00:00.000Z';

  it('every 20 minutes runs both passes', () => {
    expect(slotsBetween('*/20 * * * *', NEW_YORK, from, to)).toEqual([
      '2026-11-01T04:00:00.000Z',
      '2026-11-01T04:20:00.000Z',
      '2026-11-01T04:40:00.000Z',
      '2026-11-01T05:00:00.000Z',
      '2026-11-01T05:20:00.000Z',
      '2026-11-01T05:40:00.000Z',
      '2026-11-01T06:00:00.000Z',
      '2026-11-01T06:20:00.000Z',
      '2026-11-01T06:40:00.000Z',
      '2026-11-01T07:00:00.000Z',
      '2026-11-01T07:20:00.000Z',
      '2026-11-01T07:40:00.000Z',
      '2026-11-01T08:00:00.000Z',
    ]);
  });

  it('02:30 runs once in EST', () => {
    expect(slotsBetween('30 2 * * *', NEW_YORK, from, to)).toEqual(['2026-11-01T07:30:00.000Z']);
  });

  it('01:00 runs once at first pass', () => {
    expect(slotsBetween('0 1 * * *', NEW_YORK, from, to)).toEqual(['2026-11-01T05:00:00.000Z']);
  });

  it('01:30 runs once at first pass', () => {
    expect(slotsBetween('30 1 * * *', NEW_YORK, from, to)).toEqual(['2026-11-01T05:30:00.000Z']);
  });

  it('01:30 asked during second pass waits a day', () => {
    expect(nextSlot('30 1 * * *', NEW_YORK, new Date('2026-11-01T06:10:00.000Z')).toISOString()).toBe('2026-11-02T06:30:00.000Z');
  });

  it('every 20 minutes asked during second pass', () => {
    expect(nextSlot('*/20 * * * *', NEW_YORK, new Date('2026-11-01T06:10:00.000Z')).toISOString()).toBe('2026-11-01T06:20:00.000Z');
  });
});

describe('spring forward in New York', () => {
  // 2026-03-08: 02:00 EST (07:00Z) becomes 03:00 EDT, so 02:00-03:00 local does not exist.
  // The window is 00:00 EST (05:00Z) to 04:00 EDT (08:00Z).
  const from = '2026-03-08T05:00:00.000Z';
  const to = '2026-03-08T08:00:00.000Z';

  it('every 20 minutes skips the gap', () => {
    expect(slotsBetween('*/20 * * * *', NEW_YORK, from, to)).toEqual([
      '2026-03-08T05:00:00.000Z',
      '2026-03-08T05:20:00.000Z',
      '2026-03-08T05:40:00.000Z',
      '2026-03-08T06:00:00.000Z',
      '2026-03-08T06:20:00.000Z',
      '2026-03-08T06:40:00.000Z',
      '2026-03-08T07:00:00.000Z',
      '2026-03-08T07:20:00.000Z',
      '2026-03-08T07:40:00.000Z',
      '2026-03-08T08:00:00.000Z',
    ]);
  });

  it('nonexistent 02:30 runs at 03:00 EDT', () => {
    expect(slotsBetween('30 2 * * *', NEW_YORK, from, to)).toEqual(['2026-03-08T07:00:00.000Z']);
  });

  it('01:00 runs in EST', () => {
    expect(slotsBetween('0 1 * * *', NEW_YORK, from, to)).toEqual(['2026-03-08T06:00:00.000Z']);
  });

  it('01:30 runs in EST', () => {
    expect(slotsBetween('30 1 * * *', NEW_YORK, from, to)).toEqual(['2026-03-08T06:30:00.000Z']);
  });

  it('list of hours counts as fixed time', () => {
    expect(slotsBetween('30 2,14 * * *', NEW_YORK, from, '2026-03-09T00:00:00.000Z')).toEqual(['2026-03-08T07:00:00.000Z', '2026-03-08T18:30:00.000Z']);
  });

  it('02:30 is back the next day', () => {
    expect(nextSlot('30 2 * * *', NEW_YORK, new Date('2026-03-08T07:00:00.000Z')).toISOString()).toBe('2026-03-09T06:30:00.000Z');
  });
});

describe('long runs in New York', () => {
  const from = '2026-01-01T05:00:00.000Z';
  const to = '2027-01-01T04:59:59.999Z';

  it.each([
    ['March', '2026-03-01T05:00:00.000Z', '2026-03-15T03:59:59.999Z'],
    ['November', '2026-10-25T04:00:00.000Z', '2026-11-08T04:59:59.999Z'],
  ])('every 20 minutes keeps spacing in %s', (_month, start, end) => {
    // Two weeks around each change: 14 days of 72 slots, less 3 in the gap or plus 3 in the repeated hour.
    const slots = slotsBetweenUnbounded('*/20 * * * *', start, end);
    expect(slots.length).toBe(14 * 72 + (start.startsWith('2026-03') ? -3 : 3));
    const gaps = new Set(slots.slice(1).map((slot, index) => Date.parse(slot) - Date.parse(slots[index] as string)));
    expect([...gaps]).toEqual([20 * 60_000]);
  });

  it.each(['30 2 * * *', '0 1 * * *', '30 1 * * *'])('%s runs once a day', (schedule) => {
    const slots = slotsBetweenUnbounded(schedule, from, to);
    expect(slots.length).toBe(365);
    const days = new Set(slots.map((slot) => new Date(slot).toLocaleDateString('en-CA', { timeZone: NEW_YORK })));
    expect(days.size).toBe(365);
  });

  function slotsBetweenUnbounded(schedule: string, start: string, end: string): string[] {
    const slots: string[] = [];
    let after = new Date(Date.parse(start) - 1);
    for (let slot = nextSlot(schedule, NEW_YORK, after); slot.getTime() <= Date.parse(end); slot = nextSlot(schedule, NEW_YORK, after)) {
      expect(slot.getTime()).toBeGreaterThan(after.getTime());
      slots.push(slot.toISOString());
      after = slot;
    }
    return slots;
  }
});

describe('other zones', () => {
  it('UTC has no shifts', () => {
    expect(nextSlot('0 9 * * 1', 'UTC', new Date('2026-03-08T12:00:00.000Z')).toISOString()).toBe('2026-03-09T09:00:00.000Z');
  });

  it('half-hour shift keeps 15-minute spacing', () => {
    // Lord Howe Island falls back 30 minutes on 2026-04-05 at 02:00 local (15:00Z).
    const slots = slotsBetween('*/15 * * * *', 'Australia/Lord_Howe', '2026-04-04T14:00:00.000Z', '2026-04-04T16:00:00.000Z');
    expect(slots).toHaveLength(9);
    expect(slots[4]).toBe('2026-04-04T15:00:00.000Z');
  });

  it('slot is strictly after the given time', () => {
    const slot = new Date('2026-06-01T12:20:00.000Z');
    expect(nextSlot('*/20 * * * *', 'UTC', slot).toISOString()).toBe('2026-06-01T12:40:00.000Z');
    expect(nextSlot('*/20 * * * *', 'UTC', new Date(slot.getTime() - 1)).toISOString()).toBe('2026-06-01T12:20:00.000Z');
  });

  it('schedule with no next slot throws', () => {
    expect(() => nextSlot('0 0 30 2 *', 'UTC', new Date('2026-01-01T00:00:00.000Z'))).toThrow(/has no time after/);
  });
});

describe('validateSchedule', () => {
  it.each(['*/20 * * * *', '30 2 * * *', '0 9 * * 1-5', '0 0 1 jan *', '  15 3 * * *  '])('accepts %j', (schedule) => {
    expect(validateSchedule(schedule, NEW_YORK)).toBeUndefined();
  });

  it.each<[string, RegExp]>([
    ['* * * *', /expected five fields/],
    ['0 * * * * *', /expected five fields/],
    ['@hourly', /expected five fields/],
    ['', /expected five fields/],
    ['61 * * * *', /invalid: .*minute/i],
    ['* 24 * * *', /invalid: .*hour/i],
    ['0 0 30 2 *', /never runs/],
  ])('rejects %j', (schedule, message) => {
    expect(validateSchedule(schedule, 'UTC')).toMatch(message);
  });

  it('rejects unknown time zone', () => {
    expect(validateSchedule('*/20 * * * *', 'America/Nowhere')).toBe('time zone "America/Nowhere" is invalid: use an IANA name such as "America/New_York" or "UTC"');
  });
});
