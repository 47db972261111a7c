/**
 * POST /slack/interactions: the Confirm, Cancel, Approve and Reject buttons of write tools. The
 * request is verified like a slash command, acknowledged at once, and the outcome replaces the
 * message through response_url.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Engine, RunOutcome } from '../../engine/engine.js';
import type { SlackConfig } from '../../config/load-config.js';
import { peekClaims } from '../../engine/confirmation-token.js';
import { escapeMrkdwnDeep } from './mrkdwn.js';
import { formatSlackError } from './blocks.js';
import { ResponseUrlClient } from './response-url.js';
import { SlackPrincipals } from './slack-principals.js';
import { ACTION_APPROVE, ACTION_CANCEL, ACTION_CONFIRM, ACTION_REJECT, formatOutcome } from './outcome-message.js';
import { registerVerifiedRoute } from './verified-body.js';

export interface SlackInteractionsOptions {
  engine: Engine;
  config: SlackConfig;
  logger: Logger;
}

interface BlockActionsPayload {
  type?: string;
  user?: { id?: string; username?: string; name?: string; team_id?: string };
  team?: { id?: string };
  response_url?: string;
  actions?: Array<{ action_id?: string; value?: string; block_id?: string }>;
}

export function slackInteractionsPlugin(options: SlackInteractionsOptions): (app: FastifyInstance) => Promise<void> {
  const responseUrls = new ResponseUrlClient(options.config.responseUrlHosts, options.logger);
  const principals = new SlackPrincipals(options.config, options.logger);

  const act = async (payload: BlockActionsPayload, request: FastifyRequest): Promise<void> => {
    const action = payload.actions?.[0];
    const teamId = payload.team?.id ?? payload.user?.team_id ?? '';
    const userId = payload.user?.id ?? '';
    const responseUrl = payload.response_url ?? '';
    const toolName = /^toolshed:([a-z0-9-]+)$/.exec(action?.block_id ?? '')?.[1];
    if (action === undefined || toolName === undefined || teamId === '' || userId === '' || typeof action.value !== 'string') {
      request.log.info('slack interaction ignored: not a toolshed button');
      return;
    }
    const principal = await principals.principalFor({ teamId, userId, userName: payload.user?.username ?? payload.user?.name ?? userId });
    const tool = options.engine.tools.get(toolName);
    let outcome: RunOutcome;
    switch (action.action_id) {
      case ACTION_CONFIRM: {
        const claims = peekClaims(action.value);
        outcome = await options.engine.run({ tool: toolName, inputs: claims?.inputs ?? {}, surface: 'slack', principal, escape: escapeMrkdwnDeep, confirmationToken: action.value });
        break;
      }
      case ACTION_CANCEL:
        outcome = await options.engine.cancel(toolName, action.value, principal, 'slack');
        break;
      case ACTION_APPROVE:
      case ACTION_REJECT:
        outcome = await options.engine.decide(toolName, action.value, principal, 'slack', action.action_id === ACTION_APPROVE ? 'approved' : 'rejected', escapeMrkdwnDeep);
        break;
      default:
        request.log.info({ action_id: action.action_id }, 'slack interaction ignored: unknown action');
        return;
    }
    const message = tool === undefined ? formatSlackError({ message: `There is no tool named "${toolName}".`, runId: outcome.runId }) : formatOutcome(tool, outcome, options.config.command);
    // A failed approval is posted as a new message, so the request and its buttons stay for another approver.
    const replace = action.action_id === ACTION_CONFIRM || action.action_id === ACTION_CANCEL;
    await responseUrls.post(responseUrl, { ...message, replace_original: replace || outcome.ok }, outcome.runId);
  };

  return async (app) => {
    await registerVerifiedRoute(app, '/slack/interactions', options.config.signingSecrets, async (request: FastifyRequest, reply: FastifyReply, form: URLSearchParams) => {
      let payload: BlockActionsPayload;
      try {
        payload = JSON.parse(form.get('payload') ?? '') as BlockActionsPayload;
      } catch {
        return reply.code(400).send({ ok: false, error: { code: 'TOOLSHED_ERR_INVALID_REQUEST', message: 'The payload field is not JSON.' } });
      }
      if (payload.type !== 'block_actions') return reply.code(200).send();
      // Slack needs the acknowledgement within 3 seconds; the outcome follows at response_url.
      void act(payload, request).catch((error: unknown) => request.log.error({ detail: (error as Error).message }, 'slack interaction failed'));
      return reply.code(200).send();
    });
  };
}
