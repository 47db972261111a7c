/** GET /tools, GET /tools/:name and POST /tools/:name/run. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Engine, RunOutcome } from '../../engine/engine.js';
import { mayRun } from '../../engine/engine.js';
import { isYes } from '../../engine/inputs.js';
import { exampleInputs, inputsSchema } from '../../tool/describe.js';
import type { Tool } from '../../tool/types.js';
import { principalOf, sendError } from './server.js';

interface NameParams {
  name: string;
}

export function registerToolRoutes(app: FastifyInstance, engine: Engine): void {
  app.get('/tools', async (request) => {
    const tools = engine.toolsFor(principalOf(request));
    return { tools: tools.map((tool) => ({ name: tool.name, title: tool.title, description: tool.description, run: `POST /tools/${tool.name}/run` })) };
  });

  app.get<{ Params: NameParams }>('/tools/:name', async (request, reply) => {
    const tool = visibleTool(engine, request);
    if (tool === undefined) return toolNotFound(reply, request, engine);
    return {
      name: tool.name,
      title: tool.title,
      description: tool.description,
      inputs: inputsSchema(tool),
      roles: tool.roles,
      timeout_ms: tool.timeoutMs,
      example: exampleCall(tool, request),
    };
  });

  app.post<{ Params: NameParams }>('/tools/:name/run', async (request, reply) => {
    const body = request.body ?? {};
    if (typeof body !== 'object' || Array.isArray(body)) {
      return sendError(reply, request.id, 'TOOLSHED_ERR_INVALID_REQUEST', 'The body must be an object of inputs, such as {"email": "name@example.com"}.');
    }
    // Inputs and tokens come from the body only: Fastify logs request URLs, query string included.
    const { dry_run: dryRun, confirmation_token: token, ...inputs } = body as Record<string, unknown>;
    if (token !== undefined && typeof token !== 'string') return sendError(reply, request.id, 'TOOLSHED_ERR_INVALID_REQUEST', 'confirmation_token must be the string from the preview.');
    const outcome = await engine.run({ tool: request.params.name, inputs, surface: 'http', principal: principalOf(request), dryRun: isYes(dryRun), confirmationToken: token });
    return sendOutcome(reply, outcome);
  });

  app.post<{ Params: NameParams; Body: { confirmation_token?: unknown } }>('/tools/:name/cancel', async (request, reply) => {
    const token = (request.body as Record<string, unknown> | undefined)?.confirmation_token;
    if (typeof token !== 'string') return sendError(reply, request.id, 'TOOLSHED_ERR_INVALID_REQUEST', 'Send the confirmation_token of the preview to cancel.');
    return sendOutcome(reply, await engine.cancel(request.params.name, token, principalOf(request), 'http'));
  });

  app.route({ method: ['GET', 'PUT', 'PATCH', 'DELETE'], url: '/tools/:name/run', handler: async (request, reply) => {
    reply.header('allow', 'POST');
    return sendError(reply, request.id, 'TOOLSHED_ERR_METHOD_NOT_ALLOWED', 'Run a tool with POST and its inputs in the body.');
  } });
}

export function sendOutcome(reply: FastifyReply, outcome: RunOutcome): FastifyReply {
  if (!outcome.ok) {
    if (outcome.error.retryAfterSeconds !== undefined) reply.header('retry-after', String(outcome.error.retryAfterSeconds));
    return sendError(reply, outcome.runId, outcome.error.code, outcome.error.message, outcome.error.fields);
  }
  return reply.send({
    run_id: outcome.runId,
    tool: outcome.tool,
    ok: true,
    status: outcome.status,
    not_found: outcome.notFound,
    text: outcome.text,
    data: outcome.data,
    ...(outcome.truncated.length > 0 ? { truncated: outcome.truncated } : {}),
    ...(outcome.rowsChanged === undefined ? {} : { rows_changed: outcome.rowsChanged }),
    ...(outcome.confirmation === undefined
      ? {}
      : { confirmation: { token: outcome.confirmation.token, expires_at: outcome.confirmation.expiresAt, how: 'POST the same inputs again with "confirmation_token" set to this token to execute, or POST {"confirmation_token": ...} to /tools/NAME/cancel.'.replace('NAME', outcome.tool) } }),
    ...(outcome.approvalId === undefined ? {} : { approval_id: outcome.approvalId }),
  });
}

/** A tool the principal may run; others look absent, so names of restricted tools do not leak. */
function visibleTool(engine: Engine, request: FastifyRequest<{ Params: NameParams }>): Tool | undefined {
  const tool = engine.tools.get(request.params.name);
  return tool !== undefined && mayRun(tool, principalOf(request)) ? tool : undefined;
}

function toolNotFound(reply: FastifyReply, request: FastifyRequest<{ Params: NameParams }>, engine: Engine): FastifyReply {
  return sendError(reply, request.id, 'TOOLSHED_ERR_TOOL_NOT_FOUND', engine.notFoundMessage(request.params.name.slice(0, 64)));
}

function exampleCall(tool: Tool, request: FastifyRequest): { curl: string; body: Record<string, unknown> } {
  const body = exampleInputs(tool);
  const origin = `${request.protocol}://${request.host}`;
  const json = JSON.stringify(body).replace(/'/g, "'\\''");
  const curl = `curl -s -X POST ${origin}/tools/${tool.name}/run -H "Authorization: Bearer $TOOLSHED_API_KEY" -H 'content-type: application/json' -d '${json}'`;
  return { curl, body };
}
