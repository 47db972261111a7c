/**
 * `toolshed check TOOL` evaluates a scheduled check once on a running toolshed and prints the
 * value, the state and the notifications; `--dry-run` sends nothing and changes no state.
 * `toolshed checks` lists every check with its state, last value and next run.
 */
import type { CheckReport } from '../checks/check-runner.js';
import type { CheckSummary } from '../checks/checks-service.js';
import { defaultMessage } from '../notify/default-messages.js';
import { EXIT } from './exit-codes.js';
import type { CliIo } from './main.js';
import { requestJson, type RemoteOptions } from './remote.js';

export async function runCheck(tool: string, options: RemoteOptions & { dryRun?: boolean }, io: CliIo): Promise<number> {
  const query = options.dryRun === true ? '?dry_run=1' : '';
  const report = (await requestJson(options, 'POST', `/checks/${encodeURIComponent(tool)}/evaluate${query}`)) as CheckReport;
  if (options.json === true) {
    io.out(JSON.stringify(report, null, 2));
    return EXIT.OK;
  }
  const evaluation = report.evaluation;
  io.out(`value: ${evaluation === undefined ? '-' : evaluation.kind === 'value' ? evaluation.value.toLocaleString('en-US') : `error: ${evaluation.message}`}`);
  io.out(`state: ${report.state?.status ?? '-'}${report.state?.level === undefined ? '' : ` (${report.state.level})`}`);
  const verb = report.dryRun ? 'would notify' : 'notified';
  if (report.notifications.length === 0) io.out(`${verb}: nothing`);
  for (const notification of report.notifications) io.out(`${verb}: ${defaultMessage(notification).text}`);
  for (const delivery of report.deliveries.filter((entry) => !entry.ok)) io.err(`delivery to ${delivery.notifier} failed: ${delivery.error ?? 'no detail'}; it is retried at the next evaluation`);
  if (report.dryRun) io.err('Dry run: nothing was sent and the state was not changed.');
  return EXIT.OK;
}

export async function runChecks(options: RemoteOptions, io: CliIo): Promise<number> {
  const body = (await requestJson(options, 'GET', '/checks')) as { checks: CheckSummary[] };
  if (options.json === true) {
    io.out(JSON.stringify(body.checks, null, 2));
    return EXIT.OK;
  }
  io.out(['tool', 'state', 'last value', 'last evaluation', 'next run', 'schedule'].join('\t'));
  for (const check of body.checks) {
    const state = check.level === undefined || check.level === null ? check.status : `${check.status} (${check.level})`;
    io.out([check.tool, state, check.last_value ?? '-', check.last_evaluated_at ?? '-', check.next_run, `${check.schedule} ${check.timezone}`].join('\t'));
  }
  return EXIT.OK;
}
