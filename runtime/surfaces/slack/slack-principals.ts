/**
 * Maps a verified Slack user to a principal with roles: roles of the user itself, of the user
 * groups it belongs to, and the roles every Slack user holds. Group members come from Slack's Web
 * API (usergroups.users.list) and are cached, so a command does not wait on Slack each time.
 */
import type { Logger } from 'pino';
import type { SlackConfig } from '../../config/load-config.js';
import type { Principal } from '../../engine/principal.js';

/** How long a user group's member list is reused before it is fetched again. */
const GROUP_CACHE_MS = 5 * 60_000;
/** Longest wait for Slack's Web API; a slow answer means the group's roles are not granted this time. */
const GROUP_FETCH_TIMEOUT_MS = 1_500;

export interface SlackUser {
  teamId: string;
  userId: string;
  userName: string;
}

export class SlackPrincipals {
  private readonly groupMembers = new Map<string, { members: Set<string>; fetchedAt: number }>();

  constructor(
    private readonly config: SlackConfig,
    private readonly logger: Logger,
  ) {}

  async principalFor(user: SlackUser): Promise<Principal> {
    const roles = new Set([...this.config.defaultRoles, ...(this.config.users[`${user.teamId}/${user.userId}`] ?? [])]);
    for (const [groupId, groupRoles] of Object.entries(this.config.userGroups)) {
      if (groupRoles.every((role) => roles.has(role))) continue;
      const members = await this.membersOf(groupId);
      if (members.has(user.userId)) for (const role of groupRoles) roles.add(role);
    }
    return { id: `slack:${user.teamId}/${user.userId}`, name: user.userName || user.userId, roles: [...roles].sort() };
  }

  private async membersOf(groupId: string): Promise<Set<string>> {
    const cached = this.groupMembers.get(groupId);
    if (cached !== undefined && Date.now() - cached.fetchedAt < GROUP_CACHE_MS) return cached.members;
    if (this.config.botToken === undefined) {
      this.logger.warn({ user_group: groupId }, 'slack.user_groups is set but slack.bot_token is not, so group roles cannot be granted');
      return new Set();
    }
    try {
      const url = `${this.config.apiUrl.replace(/\/$/, '')}/usergroups.users.list?usergroup=${encodeURIComponent(groupId)}`;
      const response = await fetch(url, { headers: { authorization: `Bearer ${this.config.botToken}` }, signal: AbortSignal.timeout(GROUP_FETCH_TIMEOUT_MS) });
      const body = (await response.json()) as { ok?: boolean; users?: string[]; error?: string };
      if (body.ok !== true || !Array.isArray(body.users)) throw new Error(`Slack answered ${response.status} ${body.error ?? 'without users'}`);
      const members = new Set(body.users);
      this.groupMembers.set(groupId, { members, fetchedAt: Date.now() });
      return members;
    } catch (error) {
      this.logger.warn({ user_group: groupId, detail: (error as Error).message }, 'reading user group members from Slack failed; group roles not granted');
      return cached?.members ?? new Set();
    }
  }
}
