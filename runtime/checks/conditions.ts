/** Threshold conditions of a check: whether a value breaches one, and how to describe it to people. */
import type { CheckSpec, Condition, Level } from './types.js';

/** Levels in the order they are tried, so critical wins when both conditions match. */
const LEVELS_BY_SEVERITY: readonly Level[] = ['critical', 'warning'];

/** Describes a condition in words for notifications, such as "above 1000" or "outside 10 to 20". */
export function describeCondition(condition: Condition): string {
  if ('above' in condition) return `above ${formatLimit(condition.above)}`;
  if ('below' in condition) return `below ${formatLimit(condition.below)}`;
  if ('outside' in condition) return `outside ${formatLimit(condition.outside[0])} to ${formatLimit(condition.outside[1])}`;
  return `equal to ${formatLimit(condition.equals)}`;
}

function formatLimit(value: number): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: 20 });
}

/** Tests a value against a condition. Bounds are exclusive: 1000 is not "above 1000", and 10 is inside "outside 10 to 20". */
export function conditionMatches(condition: Condition, value: number): boolean {
  if ('above' in condition) return value > condition.above;
  if ('below' in condition) return value < condition.below;
  if ('outside' in condition) return value < condition.outside[0] || value > condition.outside[1];
  return value === condition.equals;
}

export interface Breach {
  level: Level;
  condition: Condition;
}

/** Finds the most severe level whose condition the value matches, or undefined when the value is healthy. */
export function breachedLevel(spec: CheckSpec, value: number): Breach | undefined {
  for (const level of LEVELS_BY_SEVERITY) {
    const condition = spec.levels[level];
    if (condition !== undefined && conditionMatches(condition, value)) return { level, condition };
  }
  return undefined;
}
