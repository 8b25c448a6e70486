import { describe, expect, it } from 'vitest';
import { claudeCodeCommand, clientEntry, configPath, CLIENTS, shellWord } from '../../src/cli/client-config.js';

describe('where each client keeps its MCP servers', () => {
  it('finds each file on macOS, Linux and Windows from the home directory and the environment', () => {
    const mac = { platform: 'darwin' as const, env: { HOME: '/Users/ana' } };
    const linux = { platform: 'linux' as const, env: { HOME: '/home/ana' } };
    const windows = { platform: 'win32' as const, env: { USERPROFILE: 'C:\\Users\\ana', APPDATA: 'C:\\Users\\ana\\AppData\\Roaming' } };
    expect(CLIENTS.map((client) => configPath(client, mac))).toEqual([
      '/Users/ana/Library/Application Support/Claude/claude_desktop_config.json',
      '/Users/ana/.claude.json',
      '/Users/ana/.cursor/mcp.json',
      '/Users/ana/Library/Application Support/Code/User/mcp.json',
      '/Users/ana/.codeium/windsurf/mcp_config.json',
      '/Users/ana/.codex/config.toml',
    ]);
    expect(CLIENTS.map((client) => configPath(client, linux))).toEqual([
      '/home/ana/.config/Claude/claude_desktop_config.json',
      '/home/ana/.claude.json',
      '/home/ana/.cursor/mcp.json',
      '/home/ana/.config/Code/User/mcp.json',
      '/home/ana/.codeium/windsurf/mcp_config.json',
      '/home/ana/.codex/config.toml',
    ]);
    expect(CLIENTS.map((client) => configPath(client, windows))).toEqual([
      'C:\\Users\\ana\\AppData\\Roaming\\Claude\\claude_desktop_config.json',
      'C:\\Users\\ana\\.claude.json',
      'C:\\Users\\ana\\.cursor\\mcp.json',
      'C:\\Users\\ana\\AppData\\Roaming\\Code\\User\\mcp.json',
      'C:\\Users\\ana\\.codeium\\windsurf\\mcp_config.json',
      'C:\\Users\\ana\\.codex\\config.toml',
    ]);
  });

  it('honours XDG_CONFIG_HOME (absolute only), CODEX_HOME and CLAUDE_CONFIG_DIR', () => {
    const env = { HOME: '/home/ana', XDG_CONFIG_HOME: '/cfg', CODEX_HOME: '/codex', CLAUDE_CONFIG_DIR: '/claude' };
    expect(configPath('claude-desktop', { platform: 'linux', env })).toBe('/cfg/Claude/claude_desktop_config.json');
    expect(configPath('vscode', { platform: 'linux', env })).toBe('/cfg/Code/User/mcp.json');
    expect(configPath('codex', { platform: 'linux', env })).toBe('/codex/config.toml');
    expect(configPath('claude-code', { platform: 'linux', env })).toBe('/claude/.claude.json');
    expect(configPath('vscode', { platform: 'linux', env: { HOME: '/home/ana', XDG_CONFIG_HOME: 'relative' } })).toBe('/home/ana/.config/Code/User/mcp.json');
  });

  it('quotes shell words so that ${NAME} reaches claude as written', () => {
    expect(shellWord('npx')).toBe('npx');
    expect(shellWord('Authorization: Bearer ${K}')).toBe("'Authorization: Bearer ${K}'");
    expect(shellWord("it's")).toBe("'it'\\''s'");
    expect(claudeCodeCommand('m', { kind: 'http', url: 'https://x/mcp', key: { kind: 'none' } })).toBe('claude mcp add --scope user --transport http m https://x/mcp');
  });
});

describe('Claude Desktop over HTTP', () => {
  it('goes through the mcp-remote bridge, which expands ${NAME} in its header from its environment and needs --allow-http for plain HTTP beyond localhost', () => {
    const entry = (url: string) => clientEntry('claude-desktop', { kind: 'http', url, key: { kind: 'env', name: 'K' } }).entry;
    expect(entry('https://m.example.com/mcp')).toEqual({ command: 'npx', args: ['-y', 'mcp-remote', 'https://m.example.com/mcp', '--header', 'Authorization:Bearer ${K}'] });
    expect(entry('http://127.0.0.1:8080/mcp').args).not.toContain('--allow-http');
    expect(entry('http://memory.lan:8080/mcp').args).toContain('--allow-http');
    const literal = clientEntry('claude-desktop', { kind: 'http', url: 'https://m.example.com/mcp', key: { kind: 'literal', key: 'pk_1' } });
    expect(literal.entry.env).toEqual({ PINAK_AUTH_HEADER: 'Bearer pk_1' });
    expect(literal.secret).toBe(true);
  });
});
