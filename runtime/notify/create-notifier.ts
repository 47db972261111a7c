/** Builds notifiers from their specs. */
import { SlackWebhookNotifier, type SlackWebhookNotifierOptions } from './slack-webhook-notifier.js';
import { SnsNotifier, type SnsNotifierOptions } from './sns-notifier.js';
import type { Notifier, NotifierSpec } from './types.js';
import { WebhookNotifier, type WebhookNotifierOptions } from './webhook-notifier.js';

export interface NotifierOptions {
  sns?: SnsNotifierOptions;
  slack?: SlackWebhookNotifierOptions;
  webhook?: WebhookNotifierOptions;
}

/** Creates the notifier of a spec. Throws the notifier's Error when the spec is invalid. */
export function createNotifier(spec: NotifierSpec, options: NotifierOptions = {}): Notifier {
  switch (spec.type) {
    case 'sns':
      return new SnsNotifier(spec, options.sns);
    case 'slack':
      return new SlackWebhookNotifier(spec, options.slack);
    case 'webhook':
      return new WebhookNotifier(spec, options.webhook);
    default:
      throw new Error(`notifier type "${String((spec as { type?: unknown }).type)}" is not supported; expected sns, slack or webhook`);
  }
}

/** Creates one notifier per spec, in order. */
export function createNotifiers(specs: readonly NotifierSpec[], options: NotifierOptions = {}): Notifier[] {
  return specs.map((spec) => createNotifier(spec, options));
}
