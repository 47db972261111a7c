/**
 * Turns a run outcome into a Slack message: the answer, an error in plain words with the run id,
 * a write tool's preview with Confirm and Cancel buttons, or an approval request with Approve and
 * Reject buttons. The text is already escaped by the engine; buttons carry the confirmation token.
 */
import type { RunOutcome } from '../../engine/engine.js';
import type { Tool } from '../../tool/types.js';
import { formatSlackError, formatSlackMessage, type SlackMessage } from './blocks.js';
import { slackUsage } from './help.js';

export const ACTION_CONFIRM = 'toolshed_confirm';
export const ACTION_CANCEL = 'toolshed_cancel';
export const ACTION_APPROVE = 'toolshed_approve';
export const ACTION_REJECT = 'toolshed_reject';

/** Slack's limit on a button's value. */
const MAX_BUTTON_VALUE = 2_000;

interface ButtonElement {
  type: 'button';
  action_id: string;
  text: { type: 'plain_text'; text: string };
  value: string;
  style?: 'primary' | 'danger';
}

export function formatOutcome(tool: Tool, outcome: RunOutcome, mainCommand: string): SlackMessage {
  if (!outcome.ok) {
    const fields = (outcome.error.fields ?? []).map((field) => `• ${field.message}`);
    const message = fields.length > 0 ? fields.join('\n') : outcome.error.message;
    const usage = outcome.error.code === 'TOOLSHED_ERR_INVALID_INPUT' ? slackUsage(tool, mainCommand) : undefined;
    return formatSlackError({ message, runId: outcome.runId, usage });
  }
  if (outcome.status === 'confirmation_required' && outcome.confirmation !== undefined) {
    const message = formatSlackMessage({ text: outcome.text, responseType: 'ephemeral' });
    if (outcome.confirmation.token.length > MAX_BUTTON_VALUE) {
      return formatSlackError({ message: `The inputs are too long to confirm from Slack. Run ${tool.name} over HTTP instead.`, runId: outcome.runId });
    }
    return withButtons(message, `toolshed:${tool.name}`, [
      button(ACTION_CONFIRM, 'Confirm', outcome.confirmation.token, 'primary'),
      button(ACTION_CANCEL, 'Cancel', outcome.confirmation.token),
    ]);
  }
  if (outcome.status === 'pending_approval' && outcome.approvalId !== undefined) {
    const message = formatSlackMessage({ text: outcome.text, responseType: 'in_channel' });
    return withButtons(message, `toolshed:${tool.name}`, [
      button(ACTION_APPROVE, 'Approve', outcome.approvalId, 'primary'),
      button(ACTION_REJECT, 'Reject', outcome.approvalId, 'danger'),
    ]);
  }
  return formatSlackMessage({ text: outcome.text, responseType: tool.slack.responseType, moreHint: `For the full result, run it over HTTP: POST /tools/${tool.name}/run.` });
}

function button(actionId: string, label: string, value: string, style?: 'primary' | 'danger'): ButtonElement {
  return { type: 'button', action_id: actionId, text: { type: 'plain_text', text: label }, value, ...(style === undefined ? {} : { style }) };
}

function withButtons(message: SlackMessage, blockId: string, buttons: ButtonElement[]): SlackMessage {
  const actions = { type: 'actions', block_id: blockId, elements: buttons } as unknown as SlackMessage['blocks'][number];
  return { ...message, blocks: [...message.blocks.slice(0, 49), actions] };
}
