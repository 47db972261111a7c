/** `toolshed slack manifest --url URL`: prints the Slack app manifest for the tools. */
import { loadToolDir } from '../tool/load-dir.js';
import { slackManifest } from '../surfaces/slack/manifest.js';
import { SLACK_DEFAULTS } from '../config/load-config.js';
import { readConfig, toolsDirectory, type CommonOptions, loadContext } from './context.js';
import { CliError, EXIT } from './exit-codes.js';
import type { CliIo } from './main.js';

interface ManifestCommandOptions extends CommonOptions {
  url: string;
  name: string;
}

export async function runSlackManifest(options: ManifestCommandOptions, io: CliIo): Promise<number> {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new CliError(`--url "${options.url.slice(0, 80)}" is not a URL; give toolshed's public address, such as https://toolshed.example.com`);
  }
  if (url.protocol !== 'https:') throw new CliError('--url must start with https://, because Slack sends requests only to HTTPS addresses');

  const config = await readConfig(options);
  const loaded = await loadToolDir(toolsDirectory(options, config), loadContext(config));
  io.out(slackManifest({ url: url.toString(), appName: options.name, mainCommand: config?.slack?.command ?? SLACK_DEFAULTS.command, tools: loaded.tools }).trimEnd());
  return EXIT.OK;
}
