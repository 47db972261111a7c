import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../runtime/config/load-config.js';

const KEY = 'k'.repeat(32);

function problemsOf(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig('toolshed.yaml', text, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('toolshed.yaml', () => {
  it('reads values from the environment', () => {
    const config = parseConfig('/srv/toolshed.yaml', 'connections:\n  default:\n    type: postgres\n    url: ${env:DB_URL}\napi_keys:\n  - name: bot\n    key: ${env:BOT_KEY}\n    roles: [support]\n', { DB_URL: 'postgres://db/x', BOT_KEY: KEY });
    expect(config.connections.default?.url).toBe('postgres://db/x');
    expect(config.apiKeys).toEqual([{ name: 'bot', key: KEY, roles: ['support'] }]);
    expect(config.toolsDir).toBe('/srv/tools');
    expect(config.server).toEqual({ host: '127.0.0.1', port: 3000, bodyLimit: 65536 });
  });

  it('missing variables are named, values never printed', () => {
    const problems = problemsOf('connections:\n  default:\n    type: postgres\n    url: postgres://u:${env:DB_PASSWORD}@h/db\napi_keys:\n  - name: bot\n    key: ${env:BOT_KEY}\n', { OTHER_SECRET: 'hunter2-secret' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('BOT_KEY, DB_PASSWORD are not set');
    expect(problems[0]).not.toContain('hunter2');
  });

  it('short API key is rejected without showing it', () => {
    const problems = problemsOf('api_keys:\n  - name: bot\n    key: ${env:BOT_KEY}\n', { BOT_KEY: 'short-secret' });
    expect(problems[0]).toMatch(/^toolshed\.yaml:3:10: api_keys\[0\]\.key is too short \(12 characters\)/);
    expect(problems.join('\n')).not.toContain('short-secret');
  });

  it('misspelled key gets a suggestion', () => {
    const problems = problemsOf('conections: {}\n');
    expect(problems[0]).toContain('toolshed.yaml:1:1:');
    expect(problems[0]).toContain('did you mean `connections`?');
  });

  it('unknown connection type is rejected', () => {
    const problems = problemsOf('connections:\n  default:\n    type: mysql\n    url: x\n');
    expect(problems[0]).toContain('connections.default.type');
  });

  it('YAML syntax error has a position', () => {
    const problems = problemsOf('server:\n\tport: 3000\n');
    expect(problems[0]).toMatch(/^toolshed\.yaml:2:\d+: TOOLSHED_ERR_YAML/);
  });

  it.each(['70000', 'abc'])('bad port %s is rejected', (port) => {
    expect(problemsOf(`server:\n  port: "${port}"\n`)).not.toEqual([]);
  });
});
