/**
 * POST /slack/commands: Slack slash commands. The request is verified over the exact bytes
 * received before anything else. A tool that finishes within the acknowledgement budget gets its
 * result in the HTTP response. A slower one is acknowledged at once, and its result is posted to
 * response_url.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Engine, RunOutcome } from '../../engine/engine.js';
import { assignInputs } from '../../engine/positional-inputs.js';
import { ToolshedError } from '../../errors.js';
import type { SlackConfig } from '../../config/load-config.js';
import type { Principal } from '../../engine/principal.js';
import type { Tool } from '../../tool/types.js';
import { header, registerVerifiedRoute } from './verified-body.js';
import { parseCommandText } from './command-text.js';
import { escapeMrkdwn, escapeMrkdwnDeep } from './mrkdwn.js';
import { formatSlackError, formatSlackMessage, type SlackMessage } from './blocks.js';
import { formatOutcome } from './outcome-message.js';
import { ResponseUrlClient } from './response-url.js';
import { RecentCommands } from './recent-commands.js';
import { SlackPrincipals } from './slack-principals.js';
import { slackUsage, toolHelp, toolListHelp } from './help.js';

export interface SlackSurfaceOptions {
  engine: Engine;
  config: SlackConfig;
  logger: Logger;
}

interface CommandRequest {
  teamId: string;
  userId: string;
  userName: string;
  command: string;
  text: string;
  responseUrl: string;
}

export function slackCommandsPlugin(options: SlackSurfaceOptions): (app: FastifyInstance) => Promise<void> {
  return async (app) => {
    const surface = new SlackCommands(options);
    await registerVerifiedRoute(app, '/slack/commands', options.config.signingSecrets, (request, reply, form) => surface.handle(request, reply, form));
  };
}

class SlackCommands {
  private readonly engine: Engine;
  private readonly config: SlackConfig;
  private readonly logger: Logger;
  private readonly responseUrls: ResponseUrlClient;
  private readonly principals: SlackPrincipals;
  private readonly recent = new RecentCommands();
  private readonly durations = new RecentDurations();

  constructor(options: SlackSurfaceOptions) {
    this.engine = options.engine;
    this.config = options.config;
    this.logger = options.logger;
    this.responseUrls = new ResponseUrlClient(options.config.responseUrlHosts, options.logger);
    this.principals = new SlackPrincipals(options.config, options.logger);
  }

  async handle(request: FastifyRequest, reply: FastifyReply, form: URLSearchParams): Promise<FastifyReply> {
    if (form.get('ssl_check') === '1') return reply.code(200).send();
    const command: CommandRequest = {
      teamId: form.get('team_id') ?? '',
      userId: form.get('user_id') ?? '',
      userName: form.get('user_name') ?? '',
      command: form.get('command') ?? '',
      text: form.get('text') ?? '',
      responseUrl: form.get('response_url') ?? '',
    };
    if (command.teamId === '' || command.userId === '' || command.command === '') {
      return reply.send(formatSlackError({ message: 'The request is missing team_id, user_id or command.', runId: request.id }));
    }

    const principal = await this.principals.principalFor(command);
    const message = await this.answer(command, principal, request, header(request, 'x-slack-retry-num') !== undefined);
    return reply.header('content-type', 'application/json; charset=utf-8').send(message);
  }

  private async answer(command: CommandRequest, principal: Principal, request: FastifyRequest, isRetry: boolean): Promise<SlackMessage> {
    const routed = this.route(command);
    if ('message' in routed) return routed.message;
    const { toolName, text } = routed;

    const parsed = parseCommandText(text);
    const first = parsed.words[0]?.toLowerCase();
    if (toolName === undefined && (first === undefined || first === 'help')) return this.help(parsed.words[1], principal, request.id);

    const name = toolName ?? (parsed.words[0] as string);
    const words = toolName === undefined ? parsed.words.slice(1) : parsed.words;
    const tool = this.engine.tools.get(name);
    if (tool === undefined) {
      return formatSlackError({ message: `There is no tool named "${name.slice(0, 64)}". Type \`${this.config.command} help\` to see the tools you can run.`, runId: request.id });
    }
    const usage = slackUsage(tool, this.config.command);
    if (parsed.errors.length > 0) return formatSlackError({ message: parsed.errors.join('\n'), runId: request.id, usage });

    let inputs: Record<string, string>;
    try {
      inputs = assignInputs(tool, words, parsed.named);
    } catch (error) {
      if (!(error instanceof ToolshedError)) throw error;
      return formatSlackError({ message: (error.fields ?? []).map((field) => `• ${field.message}`).join('\n'), runId: request.id, usage });
    }

    const key = RecentCommands.keyOf(command.teamId, command.userId, command.command, command.text);
    const previous = this.recent.get(key);
    if (isRetry && previous !== undefined) {
      request.log.info({ principal: principal.id, tool: tool.name }, 'slack retry of a command already received; not run again');
      return this.answerOrAcknowledge(tool, inputs, previous.outcome, command, false);
    }

    const outcome = this.engine.run({ tool: tool.name, inputs, surface: 'slack', principal, escape: escapeMrkdwnDeep });
    this.recent.remember(key, outcome);
    return this.answerOrAcknowledge(tool, inputs, outcome, command, true);
  }

  /** Returns the result message if it is ready within the budget. Otherwise returns an acknowledgement and posts the result later. */
  private async answerOrAcknowledge(tool: Tool, inputs: Record<string, string>, outcome: Promise<RunOutcome>, command: CommandRequest, postLater: boolean): Promise<SlackMessage> {
    // A tool whose recent runs took longer than the budget is acknowledged at once instead of after the budget.
    const waitMs = this.durations.typicalMs(tool.name) > this.config.ackBudgetMs ? 0 : this.config.ackBudgetMs;
    let timer: NodeJS.Timeout | undefined;
    const budget = new Promise<'pending'>((resolve) => {
      timer = setTimeout(() => resolve('pending'), waitMs);
    });
    void outcome.then((finished) => this.durations.add(tool.name, finished.durationMs));
    const first = await Promise.race([outcome, budget]);
    clearTimeout(timer);
    if (first !== 'pending') return this.format(tool, first);

    if (postLater) {
      void outcome.then(async (finished) => {
        await this.responseUrls.post(command.responseUrl, { ...this.format(tool, finished), replace_original: false }, finished.runId);
      });
    }
    const progress = tool.compiled.progress?.(escapeMrkdwnDeep(inputs) as Record<string, unknown>) ?? `Running ${escapeMrkdwn(tool.title)}...`;
    return { response_type: 'ephemeral', text: progress, blocks: [{ type: 'context', elements: [{ type: 'mrkdwn', text: progress, verbatim: true }] }] };
  }

  private format(tool: Tool, outcome: RunOutcome): SlackMessage {
    return formatOutcome(tool, outcome, this.config.command);
  }

  private route(command: CommandRequest): { toolName: string | undefined; text: string } | { message: SlackMessage } {
    if (command.command === this.config.command) return { toolName: undefined, text: command.text };
    const tool = [...this.engine.tools.values()].find((candidate) => candidate.slack.command === command.command);
    if (tool !== undefined) return { toolName: tool.name, text: command.text };
    return { message: formatSlackError({ message: `toolshed has no tool for the command ${command.command.slice(0, 40)}. Type \`${this.config.command} help\`.`, runId: 'none' }) };
  }

  private help(toolName: string | undefined, principal: Principal, runId: string): SlackMessage {
    const tools = this.engine.toolsFor(principal);
    if (toolName === undefined) return formatSlackMessage({ text: toolListHelp(tools, this.config.command), responseType: 'ephemeral' });
    const tool = tools.find((candidate) => candidate.name === toolName);
    if (tool === undefined) return formatSlackError({ message: `There is no tool named "${toolName.slice(0, 64)}" that you can run. Type \`${this.config.command} help\` for the list.`, runId });
    return formatSlackMessage({ text: toolHelp(tool, this.config.command), responseType: 'ephemeral' });
  }
}

/** The last few run durations of each tool, to predict whether a run will outlast the acknowledgement budget. */
class RecentDurations {
  private static readonly KEPT = 10;
  private readonly byTool = new Map<string, number[]>();

  add(tool: string, durationMs: number): void {
    const list = this.byTool.get(tool) ?? [];
    list.push(durationMs);
    if (list.length > RecentDurations.KEPT) list.shift();
    this.byTool.set(tool, list);
  }

  /** Returns the median of the recent durations, or 0 before any run. */
  typicalMs(tool: string): number {
    const list = [...(this.byTool.get(tool) ?? [])].sort((a, b) => a - b);
    return list.length === 0 ? 0 : (list[Math.floor(list.length / 2)] ?? 0);
  }
}
