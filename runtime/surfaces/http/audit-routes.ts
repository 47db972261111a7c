/** GET /audit and GET /usage (role auditor), and the approval routes of write tools. */
import type { FastifyInstance } from 'fastify';
import type { Engine } from '../../engine/engine.js';
import type { AuditLog } from '../../audit/audit-log.js';
import type { UsageLog } from '../../audit/usage-log.js';
import { principalOf, sendError } from './server.js';
import { sendOutcome } from './tool-routes.js';

export const AUDITOR_ROLE = 'auditor';

interface AuditQuery {
  tool?: string;
  principal?: string;
  outcome?: string;
  since?: string;
  until?: string;
  limit?: string;
}

export function registerAuditRoutes(app: FastifyInstance, engine: Engine, audit: AuditLog, usage: UsageLog | undefined): void {
  app.get<{ Querystring: AuditQuery }>('/audit', async (request, reply) => {
    if (!principalOf(request).roles.includes(AUDITOR_ROLE)) return sendError(reply, request.id, 'TOOLSHED_ERR_FORBIDDEN', `Reading the audit log needs the role ${AUDITOR_ROLE}.`);
    const query = request.query;
    const since = parseTime(query.since);
    const until = parseTime(query.until);
    const limit = query.limit === undefined ? undefined : Number(query.limit);
    if (since === null || until === null || (limit !== undefined && (!Number.isInteger(limit) || limit < 1))) {
      return sendError(reply, request.id, 'TOOLSHED_ERR_INVALID_REQUEST', 'since and until must be ISO 8601 times such as 2026-11-01T00:00:00Z, and limit a whole number from 1 to 1000.');
    }
    const entries = await audit.list({ tool: query.tool, principal: query.principal, outcome: query.outcome, since, until, limit });
    return { entries };
  });

  app.get<{ Querystring: { since?: string } }>('/usage', async (request, reply) => {
    if (!principalOf(request).roles.includes(AUDITOR_ROLE)) return sendError(reply, request.id, 'TOOLSHED_ERR_FORBIDDEN', `Reading usage needs the role ${AUDITOR_ROLE}.`);
    const since = parseTime(request.query.since);
    if (since === null) return sendError(reply, request.id, 'TOOLSHED_ERR_INVALID_REQUEST', 'since must be an ISO 8601 time such as 2026-11-01T00:00:00Z.');
    return { tools: usage === undefined ? [] : await usage.summary(since) };
  });

  app.get<{ Params: { name: string } }>('/tools/:name/approvals', async (request) => ({ approvals: await engine.pendingApprovals(request.params.name) }));

  app.post<{ Params: { name: string; id: string; decision: string } }>('/tools/:name/approvals/:id/:decision', async (request, reply) => {
    const { name, id, decision } = request.params;
    if (decision !== 'approve' && decision !== 'reject') return sendError(reply, request.id, 'TOOLSHED_ERR_ROUTE_NOT_FOUND', 'Use /approve or /reject.');
    return sendOutcome(reply, await engine.decide(name, id, principalOf(request), 'http', decision === 'approve' ? 'approved' : 'rejected'));
  });
}

/** Parses an optional ISO time; undefined when absent, null when invalid. */
function parseTime(value: string | undefined): Date | undefined | null {
  if (value === undefined || value === '') return undefined;
  const time = new Date(value);
  return Number.isNaN(time.getTime()) ? null : time;
}
