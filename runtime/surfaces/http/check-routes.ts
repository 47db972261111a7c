/** GET /checks, GET /checks/:tool and POST /checks/:tool/evaluate for scheduled checks. */
import type { FastifyInstance } from 'fastify';
import type { Engine } from '../../engine/engine.js';
import { mayRun } from '../../engine/engine.js';
import { isYes } from '../../engine/inputs.js';
import type { ChecksService } from '../../checks/checks-service.js';
import { principalOf, sendError } from './server.js';

export function registerCheckRoutes(app: FastifyInstance, engine: Engine, checks: ChecksService): void {
  app.get('/checks', async (request) => {
    const principal = principalOf(request);
    const visible = (await checks.list()).filter((summary) => {
      const tool = engine.tools.get(summary.tool);
      return tool !== undefined && mayRun(tool, principal);
    });
    return { checks: visible };
  });

  app.get<{ Params: { tool: string } }>('/checks/:tool', async (request, reply) => {
    const tool = engine.tools.get(request.params.tool);
    const detail = tool !== undefined && mayRun(tool, principalOf(request)) ? await checks.detail(tool.name) : undefined;
    if (detail === undefined) return sendError(reply, request.id, 'TOOLSHED_ERR_TOOL_NOT_FOUND', `There is no check named "${request.params.tool.slice(0, 64)}". GET /checks lists them.`);
    return detail;
  });

  app.post<{ Params: { tool: string }; Querystring: { dry_run?: string } }>('/checks/:tool/evaluate', async (request, reply) => {
    const tool = engine.tools.get(request.params.tool);
    if (tool === undefined || !mayRun(tool, principalOf(request))) return sendError(reply, request.id, 'TOOLSHED_ERR_TOOL_NOT_FOUND', `There is no check named "${request.params.tool.slice(0, 64)}". GET /checks lists them.`);
    const dryRun = isYes(request.query.dry_run);
    const report = await checks.evaluateNow(tool.name, dryRun);
    if (report === undefined) return sendError(reply, request.id, 'TOOLSHED_ERR_TOOL_NOT_FOUND', `${tool.name} has no schedule and check.`);
    return report;
  });
}
