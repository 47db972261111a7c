/** Compiles a notifier's subject or message templates and renders the one for a notification's kind. */
import type { Notification, NotificationKind } from '../checks/types.js';
import { compileTemplate, type RenderTemplate } from '../tool/templates.js';
import type { MessageTemplate, NotifyContext } from './types.js';

const KINDS: ReadonlySet<string> = new Set<NotificationKind>(['alert', 'level_change', 'reminder', 'recovery', 'error', 'error_cleared']);

export interface CompiledMessageTemplate {
  /** Name of the spec field, such as "message", used in error text. */
  field: string;
  templates: Partial<Record<NotificationKind, RenderTemplate>>;
}

export interface RenderOptions {
  /** Escapes each string value for the surface, such as Slack mrkdwn. Default: values stay as they are. */
  escape?: (value: string) => string;
  /** Text used when no template applies to this kind or the template renders only whitespace. */
  fallback: string;
}

/**
 * Compiles a template, or one template per kind. Throws an Error naming the field and kind when
 * a template does not parse, a kind is unknown, or a value is not a string.
 */
export function compileMessageTemplate(template: MessageTemplate | undefined, field: string): CompiledMessageTemplate {
  const compiled: CompiledMessageTemplate = { field, templates: {} };
  if (template === undefined) {
    return compiled;
  }

  if (typeof template === 'string') {
    const render = compileOne(template, field);
    for (const kind of KINDS) {
      compiled.templates[kind as NotificationKind] = render;
    }
    return compiled;
  }

  for (const [kind, source] of Object.entries(template)) {
    if (!KINDS.has(kind)) {
      throw new Error(`${field}.${kind} is not a notification kind; expected one of ${[...KINDS].join(', ')}`);
    }
    if (typeof source !== 'string') {
      throw new Error(`${field}.${kind} must be a template string`);
    }
    compiled.templates[kind as NotificationKind] = compileOne(source, `${field}.${kind}`);
  }
  return compiled;
}

function compileOne(source: string, field: string): RenderTemplate {
  try {
    return compileTemplate(source);
  } catch (error) {
    throw new Error(`${field} is not a valid Handlebars template: ${(error as Error).message}`);
  }
}

/**
 * Renders the template for the notification's kind. When the template throws, the fallback text is
 * sent with a note naming the failure, so that a broken template never drops an alert.
 */
export function renderMessage(compiled: CompiledMessageTemplate, notification: Notification, context: NotifyContext, options: RenderOptions): string {
  const render = compiled.templates[notification.kind];
  if (render === undefined) {
    return options.fallback;
  }

  try {
    const text = render(templateContext(notification, context, options.escape));
    return text.trim() === '' ? options.fallback : text;
  } catch (error) {
    return `${options.fallback}\n\n(The ${compiled.field} template failed: ${(error as Error).message})`;
  }
}

/** Builds the values a template can read. Strings pass through `escape`. Missing values stay undefined, so `{{#if error}}` works. */
export function templateContext(notification: Notification, context: NotifyContext, escape: (value: string) => string = (value) => value): Record<string, unknown> {
  const optional = (value: string | undefined): string | undefined => (value === undefined ? undefined : escape(value));
  return {
    tool: escape(notification.tool),
    title: escape(context.title ?? notification.tool),
    unit: optional(context.unit),
    kind: notification.kind,
    level: notification.level,
    value: notification.value,
    threshold: optional(notification.threshold),
    since: escape(notification.since),
    next_reminder_at: optional(notification.nextReminderAt),
    error: optional(notification.error),
    at: escape(notification.at),
  };
}
