/**
 * Evaluates one scheduled check: runs the tool through the engine, reads the watched value, moves
 * the state machine, records the evaluation and sends the notifications. Deliveries that failed at
 * the previous evaluation are sent again first.
 */
import type { Logger } from 'pino';
import type { Engine } from '../engine/engine.js';
import type { Principal } from '../engine/principal.js';
import type { Tool, ToolCheck } from '../tool/types.js';
import type { Notifier } from '../notify/types.js';
import type { Delivery } from '../notify/types.js';
import { deliverAll, type DeliverOptions } from '../notify/dispatch.js';
import type { CheckStore } from './check-store.js';
import { evaluateCheck, initialState } from './state-machine.js';
import type { CheckState, Evaluation, Notification } from './types.js';

export interface CheckReport {
  tool: string;
  slot: string;
  /** `slot_taken`: another replica evaluates this slot. */
  skipped?: 'slot_taken';
  evaluation?: Evaluation;
  state?: CheckState;
  notifications: Notification[];
  deliveries: Delivery[];
  dryRun: boolean;
}

export interface CheckRunnerOptions {
  engine: Engine;
  store: CheckStore;
  logger: Logger;
  /** Notifiers of each tool, by tool name. */
  notifiers: ReadonlyMap<string, readonly Notifier[]>;
  /** Identifies this process when claiming slots. */
  instanceId: string;
  deliver?: Partial<DeliverOptions>;
  now?: () => Date;
}

export class CheckRunner {
  constructor(private readonly options: CheckRunnerOptions) {}

  /** Evaluates a tool's check for a slot; with `claim`, only if no other replica has taken the slot. */
  async evaluate(tool: Tool, slot: Date, settings: { claim: boolean; dryRun: boolean }): Promise<CheckReport> {
    const check = tool.check as ToolCheck;
    const report: CheckReport = { tool: tool.name, slot: slot.toISOString(), notifications: [], deliveries: [], dryRun: settings.dryRun };
    if (settings.claim && !settings.dryRun && !(await this.options.store.claimSlot(tool.name, slot, this.options.instanceId))) {
      return { ...report, skipped: 'slot_taken' };
    }

    const evaluation = await this.measure(tool, check);
    const now = this.options.now?.() ?? new Date();
    const previous = (await this.options.store.loadState(tool.name)) ?? initialState(now);
    const { state, notifications } = evaluateCheck(check.spec, previous, evaluation, now);
    report.evaluation = evaluation;
    report.state = state;
    report.notifications = notifications;
    if (settings.dryRun) return report;

    const redeliveries = await this.redeliverFailed(tool, check);
    const evaluationId = await this.options.store.saveEvaluation(tool.name, slot, evaluation, state, notifications);
    const notifiers = this.options.notifiers.get(tool.name) ?? [];
    // Each record keeps its notification, so a failed delivery can be sent again next time.
    const records: Array<{ delivery: Delivery; notification: Notification }> = [...redeliveries];
    for (const notification of notifications) {
      const sent = await deliverAll(notifiers, notification, { title: tool.title, unit: check.unit }, { logger: this.options.logger, ...this.options.deliver });
      records.push(...sent.map((delivery) => ({ delivery, notification })));
    }
    const deliveries = records.map((record) => record.delivery);
    report.deliveries = deliveries;
    if (records.length > 0) await this.options.store.recordDeliveries(evaluationId, records.map((record) => ({ ...record.delivery, notification: record.notification })));
    this.options.logger.info({ tool: tool.name, slot: report.slot, status: state.status, alert_level: state.level, value: evaluation.kind === 'value' ? evaluation.value : undefined, notifications: notifications.map((n) => n.kind), failed_deliveries: deliveries.filter((d) => !d.ok).length }, 'check evaluated');
    return report;
  }

  /** Runs the tool and reads the watched number; any failure becomes an error evaluation. */
  private async measure(tool: Tool, check: ToolCheck): Promise<Evaluation> {
    const principal: Principal = { id: 'system:scheduler', name: 'scheduler', roles: tool.roles };
    const outcome = await this.options.engine.run({ tool: tool.name, inputs: {}, surface: 'scheduler', principal });
    if (!outcome.ok) return { kind: 'error', message: `${outcome.error.message} (${outcome.error.code}, run ${outcome.runId})` };
    const result = outcome.results?.[check.source.step];
    if (check.source.kind === 'count' || check.source.kind === 'any') {
      let rows = 1;
      if (Array.isArray(result)) rows = result.length;
      else if (result === null || result === undefined) rows = 0;
      return { kind: 'value', value: check.source.kind === 'count' ? rows : rows > 0 ? 1 : 0 };
    }
    const row = Array.isArray(result) ? result[0] : result;
    const raw = (row as Record<string, unknown> | null | undefined)?.[check.source.field];
    const value = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
    if (!Number.isFinite(value)) {
      return { kind: 'error', message: `the check reads ${check.source.step}.${check.source.field}, which is ${raw === undefined ? 'missing' : JSON.stringify(raw)}, not a number` };
    }
    return { kind: 'value', value };
  }

  /** Sends again the notifications whose delivery failed at the previous evaluation, to the notifiers that failed. */
  private async redeliverFailed(tool: Tool, check: ToolCheck): Promise<Array<{ delivery: Delivery; notification: Notification }>> {
    const [last] = await this.options.store.recentEvaluations(tool.name, 1);
    const failed = (last?.deliveries ?? []).filter((delivery) => delivery.ok === false && delivery.notification !== null && typeof delivery.notification === 'object');
    if (failed.length === 0) return [];
    const notifiers = this.options.notifiers.get(tool.name) ?? [];
    const results: Array<{ delivery: Delivery; notification: Notification }> = [];
    for (const record of failed) {
      const notifier = notifiers.find((candidate) => candidate.name === record.notifier);
      if (notifier === undefined) continue;
      const notification = record.notification as Notification;
      const sent = await deliverAll([notifier], notification, { title: tool.title, unit: check.unit }, { logger: this.options.logger, ...this.options.deliver });
      results.push(...sent.map((delivery) => ({ delivery: { ...delivery, redelivery: true } as Delivery, notification })));
    }
    return results;
  }
}
