/**
 * Runs a write tool: a preview in a rolled-back transaction that returns a confirmation token,
 * then, with the token, the real run. The audit entry for the attempt is committed before the
 * write transaction starts, and the token is claimed inside that transaction, so two concurrent
 * confirmations of one token execute once.
 */
import { randomUUID } from 'node:crypto';
import { ToolshedError } from '../errors.js';
import type { Database } from '../connectors/postgres/database.js';
import type { AuditLog, AuditMode, AuditOutcome } from '../audit/audit-log.js';
import type { Tool } from '../tool/types.js';
import { ConfirmationTokens, inputsDigest, type ConfirmationClaims } from './confirmation-token.js';
import type { InputValues } from './inputs.js';
import type { Principal, Surface } from './principal.js';
import { runSteps, type StepsOutcome } from './run-steps.js';

/** How long an approval request stays open. */
export const APPROVAL_TTL_MS = 60 * 60_000;

export interface WriteRequest {
  runId: string;
  tool: Tool;
  inputs: InputValues;
  principal: Principal;
  surface: Surface;
  dryRun: boolean;
  confirmationToken: string | undefined;
}

export type WriteResult =
  | { status: 'not_found'; steps: StepsOutcome }
  | { status: 'dry_run'; steps: StepsOutcome }
  | { status: 'confirmation_required'; steps: StepsOutcome; token: string; expiresAt: number }
  | { status: 'pending_approval'; approvalId: string }
  | { status: 'done'; steps: StepsOutcome; approver?: string };

export interface PendingApproval {
  id: string;
  runId: string;
  tool: string;
  inputs: Record<string, unknown>;
  requester: Principal;
}

export class WriteRunner {
  constructor(
    private readonly databaseFor: (tool: Tool) => Database,
    private readonly audit: AuditLog | undefined,
    private readonly tokens: ConfirmationTokens,
  ) {}

  async run(request: WriteRequest): Promise<WriteResult> {
    const database = this.databaseFor(request.tool);
    this.requireAudit();
    // A dry run never writes, even when a confirmation token comes with it.
    if (request.dryRun || request.confirmationToken === undefined) return this.preview(request, database);

    const claims = this.checkToken(request.confirmationToken, request.tool, request.inputs, request.principal);
    if (request.tool.approvalRoles.length > 0) return this.requestApproval(request, database, claims);
    const steps = await this.execute(request, database, claims.nonce, undefined);
    return { status: 'done', steps };
  }

  /** Marks a preview's token as used without running it; returns the claims for the audit entry. */
  async cancel(token: string, tool: Tool, principal: Principal, runId: string): Promise<ConfirmationClaims> {
    const claims = this.checkToken(token, tool, undefined, principal);
    const database = this.databaseFor(tool);
    await database.transaction({ readOnly: false, timeoutMs: 5_000 }, (client) => claimNonce(client, claims.nonce, runId));
    return claims;
  }

  /** Approves a pending request: the approver must hold an approval role and not be the requester. */
  async approve(approvalId: string, tool: Tool, approver: Principal, request: Omit<WriteRequest, 'inputs' | 'principal' | 'dryRun' | 'confirmationToken'>, decide: 'approved' | 'rejected'): Promise<{ pending: PendingApproval; steps?: StepsOutcome }> {
    const database = this.databaseFor(tool);
    const pending = await this.loadApproval(database, approvalId, tool);
    if (pending.requester.id === approver.id) throw new ToolshedError('TOOLSHED_ERR_FORBIDDEN', 'You requested this change, so someone else must approve it.');
    if (!tool.approvalRoles.some((role) => approver.roles.includes(role))) {
      throw new ToolshedError('TOOLSHED_ERR_FORBIDDEN', `Approving ${tool.name} needs ${tool.approvalRoles.length === 1 ? `the role ${tool.approvalRoles[0]}` : `one of the roles ${tool.approvalRoles.join(', ')}`}.`);
    }
    const decided = await database.transaction({ readOnly: false, timeoutMs: 5_000 }, async (client) => {
      const result = await client.query("update toolshed_approvals set status = $2, decided_by = $3, decided_at = now() where id = $1 and status = 'pending' and expires_at > now()", [approvalId, decide, approver.id]);
      return result.rowCount;
    });
    if (decided !== 1) throw new ToolshedError('TOOLSHED_ERR_APPROVAL_NOT_FOUND', 'This approval request was already decided or has expired.');
    if (decide === 'rejected') return { pending };
    const steps = await this.execute({ ...request, tool, inputs: pending.inputs as InputValues, principal: pending.requester, dryRun: false, confirmationToken: undefined }, database, `approval:${approvalId}`, approver.id);
    return { pending, steps };
  }

  async pendingApprovals(tool: Tool): Promise<PendingApproval[]> {
    const database = this.databaseFor(tool);
    const rows = await database.transaction({ readOnly: true, timeoutMs: 5_000 }, async (client) =>
      (await client.query("select id from toolshed_approvals where tool = $1 and status = 'pending' and expires_at > now() order by created_at", [tool.name])).rows,
    );
    return Promise.all(rows.map((row) => this.loadApproval(database, String(row.id), tool)));
  }

  private async preview(request: WriteRequest, database: Database): Promise<WriteResult> {
    const steps = await runSteps(request.tool, database, request.inputs, { mode: 'rollback', run: { id: request.runId, principal: request.principal, surface: request.surface } });
    if (steps.notFoundStep !== undefined) return { status: 'not_found', steps };
    if (request.dryRun) return { status: 'dry_run', steps };
    const { token, claims } = this.tokens.issue({ tool: request.tool.name, toolHash: request.tool.hash, inputs: request.inputs, principal: request.principal.id, runId: request.runId });
    return { status: 'confirmation_required', steps, token, expiresAt: claims.expiresAt };
  }

  private async execute(request: WriteRequest, database: Database, nonce: string, approver: string | undefined): Promise<StepsOutcome> {
    const audit = this.requireAudit();
    const base = { runId: request.runId, tool: request.tool.name, toolHash: request.tool.hash, surface: request.surface, principal: request.principal.id, roles: request.principal.roles, inputs: redactInputs(request.tool, request.inputs), mode: 'execute' as AuditMode, approver };
    try {
      await audit.record({ ...base, phase: 'attempt', outcome: 'confirmed' });
    } catch (error) {
      throw new ToolshedError('TOOLSHED_ERR_AUDIT_UNAVAILABLE', 'The audit log cannot be written, so nothing was changed. Tell whoever runs toolshed.', { detail: (error as Error).message, cause: error });
    }
    return runSteps(request.tool, database, request.inputs, {
      mode: 'commit',
      run: { id: request.runId, principal: request.principal, surface: request.surface },
      beforeSteps: (client) => claimNonce(client, nonce, request.runId),
    });
  }

  private async requestApproval(request: WriteRequest, database: Database, claims: ConfirmationClaims): Promise<WriteResult> {
    const id = randomUUID();
    await database.transaction({ readOnly: false, timeoutMs: 5_000 }, async (client) => {
      await claimNonce(client, claims.nonce, request.runId);
      await client.query(
        `insert into toolshed_approvals (id, run_id, tool, tool_hash, inputs, requester, requester_name, requester_roles, status, expires_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9)`,
        [id, request.runId, request.tool.name, request.tool.hash, JSON.stringify(request.inputs), request.principal.id, request.principal.name, [...request.principal.roles], new Date(Date.now() + APPROVAL_TTL_MS)],
      );
    });
    return { status: 'pending_approval', approvalId: id };
  }

  private async loadApproval(database: Database, approvalId: string, tool: Tool): Promise<PendingApproval> {
    if (!/^[0-9a-f-]{36}$/i.test(approvalId)) throw new ToolshedError('TOOLSHED_ERR_APPROVAL_NOT_FOUND', 'There is no approval request with that id.');
    const row = await database.transaction({ readOnly: true, timeoutMs: 5_000 }, async (client) => (await client.query('select * from toolshed_approvals where id = $1 and tool = $2', [approvalId, tool.name])).rows[0]);
    if (row === undefined) throw new ToolshedError('TOOLSHED_ERR_APPROVAL_NOT_FOUND', 'There is no approval request with that id for this tool.');
    if (row.tool_hash !== tool.hash) throw new ToolshedError('TOOLSHED_ERR_CONFIRMATION_INVALID', 'The tool changed after this approval was requested. Ask for a new request.');
    return {
      id: String(row.id),
      runId: String(row.run_id),
      tool: tool.name,
      inputs: row.inputs as Record<string, unknown>,
      requester: { id: String(row.requester), name: String(row.requester_name), roles: row.requester_roles as string[] },
    };
  }

  private checkToken(token: string, tool: Tool, inputs: InputValues | undefined, principal: Principal): ConfirmationClaims {
    const checked = this.tokens.verify(token);
    if (!checked.ok) throw new ToolshedError('TOOLSHED_ERR_CONFIRMATION_INVALID', checked.reason);
    const { claims } = checked;
    if (claims.tool !== tool.name) throw new ToolshedError('TOOLSHED_ERR_CONFIRMATION_INVALID', 'The confirmation token belongs to another tool.');
    if (claims.toolHash !== tool.hash) throw new ToolshedError('TOOLSHED_ERR_CONFIRMATION_INVALID', 'The tool changed after the preview. Run it again to get a new preview.');
    if (claims.principal !== principal.id) throw new ToolshedError('TOOLSHED_ERR_CONFIRMATION_INVALID', 'The confirmation token was issued to someone else. Run the tool yourself to get your own preview.');
    if (inputs !== undefined && inputsDigest(claims.inputs) !== inputsDigest(inputs)) {
      throw new ToolshedError('TOOLSHED_ERR_CONFIRMATION_INVALID', 'The inputs differ from the ones previewed. Run the tool again to preview these inputs.');
    }
    return claims;
  }

  private requireAudit(): AuditLog {
    if (this.audit === undefined) throw new ToolshedError('TOOLSHED_ERR_AUDIT_UNAVAILABLE', 'Write tools need the audit log, which is not set up. Tell whoever runs toolshed.');
    return this.audit;
  }
}

/** Claims a confirmation token's nonce; a second claim of the same nonce fails on the primary key. */
async function claimNonce(client: { query(text: string, params?: readonly unknown[]): Promise<unknown> }, nonce: string, runId: string): Promise<void> {
  try {
    await client.query('insert into toolshed_confirmations (nonce, run_id) values ($1, $2)', [nonce, runId]);
  } catch (error) {
    if ((error as { code?: string }).code === '23505') throw new ToolshedError('TOOLSHED_ERR_CONFIRMATION_INVALID', 'This confirmation was already used. Run the tool again for a new preview.');
    throw error;
  }
}

/** Inputs as the audit log stores them: sensitive values replaced. */
export function redactInputs(tool: Tool, inputs: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(inputs).map(([name, value]) => [name, tool.inputs[name]?.sensitive === true ? '[redacted]' : value]));
}

export function auditOutcomeOf(code: string): AuditOutcome {
  if (code === 'TOOLSHED_ERR_FORBIDDEN' || code === 'TOOLSHED_ERR_RATE_LIMITED') return 'denied';
  if (code === 'TOOLSHED_ERR_INVALID_INPUT' || code === 'TOOLSHED_ERR_CONFIRMATION_INVALID') return 'invalid';
  if (code === 'TOOLSHED_ERR_ROW_GUARD') return 'rolled_back';
  return 'error';
}
