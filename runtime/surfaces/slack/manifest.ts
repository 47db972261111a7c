/** A Slack app manifest for the tools, ready to paste into Slack's "Create an app from a manifest". */
import { stringify } from 'yaml';
import type { Tool } from '../../tool/types.js';
import { usageLine } from '../../tool/describe.js';

/** Slack's limits on slash-command fields in a manifest. */
const DESCRIPTION_MAX = 100;
const USAGE_HINT_MAX = 100;

export interface ManifestOptions {
  /** Public base URL of toolshed, such as https://toolshed.example.com. */
  url: string;
  appName: string;
  mainCommand: string;
  tools: readonly Tool[];
}

export function slackManifest(options: ManifestOptions): string {
  const base = options.url.replace(/\/+$/, '');
  const commandsUrl = `${base}/slack/commands`;
  const names = options.tools.map((tool) => tool.name).join(', ');
  const commands = [
    {
      command: options.mainCommand,
      url: commandsUrl,
      description: clip(`Run a toolshed tool: ${names}`, DESCRIPTION_MAX),
      usage_hint: clip('help | TOOL [inputs...]', USAGE_HINT_MAX),
      should_escape: false,
    },
    ...options.tools
      .filter((tool) => tool.slack.command !== undefined)
      .map((tool) => ({
        command: tool.slack.command as string,
        url: commandsUrl,
        description: clip(tool.title, DESCRIPTION_MAX),
        usage_hint: clip(usageLine(tool, '').trim(), USAGE_HINT_MAX),
        should_escape: false,
      })),
  ];

  const manifest = {
    _metadata: { major_version: 1, minor_version: 1 },
    display_information: { name: options.appName, description: 'Runs toolshed tools from Slack.' },
    features: { bot_user: { display_name: options.appName, always_online: false }, slash_commands: commands },
    oauth_config: { scopes: { bot: ['commands', 'usergroups:read'] } },
    settings: {
      interactivity: { is_enabled: true, request_url: `${base}/slack/interactions` },
      org_deploy_enabled: false,
      socket_mode_enabled: false,
      token_rotation_enabled: false,
    },
  };
  return stringify(manifest, { lineWidth: 0 });
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}
