import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { parse as parseToml } from 'smol-toml';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, runCli } from '../helpers/spawn-server.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));
function tempDir(): string {
  const { dir, cleanup } = makeTempDir('pinak-setup-');
  cleanups.push(cleanup);
  return dir;
}

/** A home directory of its own for each run: every client's file is found under it on Linux. */
const homeEnv = (home: string): Record<string, string> => ({ HOME: home, XDG_CONFIG_HOME: join(home, '.config') });

const FILES = {
  'claude-desktop': '.config/Claude/claude_desktop_config.json',
  'claude-code': '.claude.json',
  cursor: '.cursor/mcp.json',
  vscode: '.config/Code/User/mcp.json',
  windsurf: '.codeium/windsurf/mcp_config.json',
  codex: '.codex/config.toml',
} as const;
type ClientName = keyof typeof FILES;
const CLIENTS = Object.keys(FILES) as ClientName[];

/** The words of a POSIX shell line that quotes with single quotes only (as setup prints it). */
function shellWords(line: string): string[] {
  return [...line.matchAll(/'((?:[^']|'\\'')*)'|(\S+)/g)].map((m) => (m[1] !== undefined ? m[1].replace(/'\\''/g, "'") : m[2]!));
}

/** The server entries of a client's configuration, whatever its format. */
function serversOf(client: ClientName, text: string): Record<string, any> {
  if (client === 'codex') return (parseToml(text) as any).mcp_servers;
  const config = JSON.parse(text);
  return client === 'vscode' ? config.servers : config.mcpServers;
}

describe('pinak-memory setup CLIENT', () => {
  it('prints each client\'s stdio configuration, in the client\'s own format, passing --data-dir on as an absolute path', () => {
    const home = tempDir();
    const expected: Record<ClientName, Record<string, unknown>> = {
      'claude-desktop': { command: 'npx', args: ['-y', 'pinak-memory', '--data-dir', join(home, 'mem')] },
      'claude-code': {},
      cursor: { command: 'npx', args: ['-y', 'pinak-memory', '--data-dir', join(home, 'mem')] },
      vscode: { type: 'stdio', command: 'npx', args: ['-y', 'pinak-memory', '--data-dir', join(home, 'mem')] },
      windsurf: { command: 'npx', args: ['-y', 'pinak-memory', '--data-dir', join(home, 'mem')] },
      codex: { command: 'npx', args: ['-y', 'pinak-memory', '--data-dir', join(home, 'mem')] },
    };
    for (const client of CLIENTS) {
      const run = runCli(['setup', client, '--data-dir', join(home, 'mem')], homeEnv(home));
      expect([client, run.status]).toEqual([client, 0]);
      expect(run.stderr, client).toContain(join(home, FILES[client]));
      if (client === 'claude-code') {
        expect(shellWords(run.stdout.trim())).toEqual(['claude', 'mcp', 'add', '--scope', 'user', 'pinak-memory', '--', 'npx', '-y', 'pinak-memory', '--data-dir', join(home, 'mem')]);
        continue;
      }
      expect(serversOf(client, run.stdout), client).toEqual({ 'pinak-memory': expected[client] });
    }
    // A relative directory is made absolute: the client starts the server from a directory of its own.
    const relative = runCli(['setup', 'cursor', '--data-dir', 'rel/dir', '--name', 'work'], homeEnv(home));
    expect(JSON.parse(relative.stdout).mcpServers.work.args.at(-1)).toMatch(/^\/.*rel\/dir$/);
  });

  it('prints each client\'s HTTP configuration, referring to the key\'s environment variable where the client can, never holding the key', () => {
    const home = tempDir();
    const url = 'https://memory.example.com/mcp';
    const expected: Record<ClientName, unknown> = {
      'claude-desktop': { command: 'npx', args: ['-y', 'mcp-remote', url, '--header', 'Authorization:Bearer ${TEAM_KEY}'] },
      'claude-code': null,
      cursor: { url, headers: { Authorization: 'Bearer ${env:TEAM_KEY}' } },
      vscode: { type: 'http', url, headers: { Authorization: 'Bearer ${input:pinak-memory-api-key}' } },
      windsurf: { serverUrl: url, headers: { Authorization: 'Bearer ${env:TEAM_KEY}' } },
      codex: { url, bearer_token_env_var: 'TEAM_KEY' },
    };
    for (const client of CLIENTS) {
      const run = runCli(['setup', client, '--url', url, '--key-env', 'TEAM_KEY'], { ...homeEnv(home), TEAM_KEY: 'pk_live_never_printed' });
      expect([client, run.status]).toEqual([client, 0]);
      expect(run.stdout + run.stderr).not.toContain('pk_live_never_printed');
      if (client === 'claude-code') {
        expect(shellWords(run.stdout.trim())).toEqual(['claude', 'mcp', 'add', '--scope', 'user', '--transport', 'http', 'pinak-memory', url, '--header', 'Authorization: Bearer ${TEAM_KEY}']);
        continue;
      }
      expect(serversOf(client, run.stdout)['pinak-memory'], client).toEqual(expected[client]);
    }
    const vscode = JSON.parse(runCli(['setup', 'vscode', '--url', url], homeEnv(home)).stdout);
    expect(vscode.inputs).toEqual([{ type: 'promptString', id: 'pinak-memory-api-key', description: 'pinak-memory API key', password: true }]);
    // Without authentication: no header at all.
    expect(JSON.parse(runCli(['setup', 'cursor', '--url', 'http://127.0.0.1:8080/mcp', '--no-auth'], homeEnv(home)).stdout).mcpServers['pinak-memory']).toEqual({ url: 'http://127.0.0.1:8080/mcp' });
  });

  it('writes the key itself only when asked with --key-file, and makes the file readable by its owner alone', () => {
    const home = tempDir();
    const keyFile = join(home, 'key');
    writeFileSync(keyFile, 'pk_from_file\n');
    mkdirSync(join(home, '.codeium', 'windsurf'), { recursive: true });
    const file = join(home, FILES.windsurf);
    writeFileSync(file, '{"mcpServers": {}}\n', { mode: 0o644 });
    const run = runCli(['setup', 'windsurf', '--url', 'https://m.example.com/mcp', '--key-file', keyFile, '--write'], homeEnv(home));
    expect([run.status, run.stderr]).toEqual([0, expect.stringContaining('holds the API key itself')]);
    expect(JSON.parse(readFileSync(file, 'utf8')).mcpServers['pinak-memory'].headers).toEqual({ Authorization: 'Bearer pk_from_file' });
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('--write merges into an existing file: other servers and keys kept, a timestamped backup first; a second run changes nothing', () => {
    for (const client of CLIENTS) {
      const home = tempDir();
      const file = join(home, FILES[client]);
      mkdirSync(dirname(file), { recursive: true });
      const original =
        client === 'codex'
          ? '# my settings\nmodel = "o3"\n\n[mcp_servers.other]\ncommand = "other-server"\nargs = ["--flag"]\n\n[profiles.fast]\nmodel = "small"\n'
          : JSON.stringify({ theme: 'dark', [client === 'vscode' ? 'servers' : 'mcpServers']: { other: { command: 'other-server', args: ['--flag'] } }, inputs: client === 'vscode' ? [{ id: 'x', type: 'promptString' }] : undefined }, null, 4);
      writeFileSync(file, original);

      const first = runCli(['setup', client, '--write', '--data-dir', join(home, 'mem')], homeEnv(home));
      expect([client, first.status, first.stdout]).toEqual([client, 0, '']);
      expect(first.stderr).toContain(`added the server "pinak-memory" to ${file}`);
      const backups = readdirSync(dirname(file)).filter((name) => name.endsWith('.bak'));
      expect(backups, client).toHaveLength(1);
      expect(backups[0]).toMatch(/^.+\.\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z\.bak$/);
      expect(readFileSync(join(dirname(file), backups[0]!), 'utf8')).toBe(original);

      const written = readFileSync(file, 'utf8');
      const servers = serversOf(client, written);
      expect(servers.other, client).toEqual({ command: 'other-server', args: ['--flag'] });
      expect(servers['pinak-memory'].args, client).toEqual(['-y', 'pinak-memory', '--data-dir', join(home, 'mem')]);
      if (client === 'codex') {
        // The file's own text is kept as it was, the entry added as a table of its own.
        expect(written.startsWith(original)).toBe(true);
        expect((parseToml(written) as any).profiles).toEqual({ fast: { model: 'small' } });
      } else {
        expect(JSON.parse(written).theme).toBe('dark');
        expect(written, client).toMatch(/^ {4}"theme": "dark",?$/m); // the file's own indentation
        if (client === 'vscode') expect(JSON.parse(written).inputs).toEqual([{ id: 'x', type: 'promptString' }]);
      }

      const second = runCli(['setup', client, '--write', '--data-dir', join(home, 'mem')], homeEnv(home));
      expect([client, second.status]).toEqual([client, 0]);
      expect(second.stderr).toContain('already configured');
      expect(readFileSync(file, 'utf8')).toBe(written);
      expect(readdirSync(dirname(file)).filter((name) => name.endsWith('.bak'))).toHaveLength(1);
    }
  });

  it('--write updates its own entry when the options change, in place in Codex\'s TOML, and creates a missing file and its directories', () => {
    const home = tempDir();
    const file = join(home, FILES.codex);
    expect(runCli(['setup', 'codex', '--write'], homeEnv(home)).status).toBe(0);
    expect(readdirSync(dirname(file))).toEqual(['config.toml']); // nothing to back up
    writeFileSync(file, `${readFileSync(file, 'utf8')}\n# about profiles\n[profiles.x]\nmodel = "y"\n`);
    const update = runCli(['setup', 'codex', '--write', '--url', 'https://m.example.com/mcp'], homeEnv(home));
    expect([update.status, update.stderr]).toEqual([0, expect.stringContaining(`updated the server "pinak-memory" in ${file}`)]);
    const text = readFileSync(file, 'utf8');
    expect(parseToml(text)).toEqual({ mcp_servers: { 'pinak-memory': { url: 'https://m.example.com/mcp', bearer_token_env_var: 'PINAK_API_KEY' } }, profiles: { x: { model: 'y' } } });
    expect(text).toContain('# about profiles\n[profiles.x]');
    expect(text.indexOf('[mcp_servers.pinak-memory]')).toBeLessThan(text.indexOf('[profiles.x]'));
  });

  it('--write changes a linked file where it is kept, leaving the link', () => {
    const home = tempDir();
    const kept = join(home, 'dotfiles', 'cursor-mcp.json');
    mkdirSync(dirname(kept), { recursive: true });
    writeFileSync(kept, '{"mcpServers": {"other": {"command": "x"}}}\n');
    mkdirSync(join(home, '.cursor'));
    symlinkSync(kept, join(home, FILES.cursor));
    expect(runCli(['setup', 'cursor', '--write'], homeEnv(home)).status).toBe(0);
    expect(lstatSync(join(home, FILES.cursor)).isSymbolicLink()).toBe(true);
    expect(Object.keys(JSON.parse(readFileSync(kept, 'utf8')).mcpServers)).toEqual(['other', 'pinak-memory']);
    expect(readdirSync(dirname(kept)).filter((name) => name.endsWith('.bak'))).toHaveLength(1);
  });

  it('refuses a configuration file it cannot read as JSON (TOML for Codex), leaving it untouched', () => {
    for (const [client, text] of [
      ['cursor', '{"mcpServers": {"other": {"command": "x"}},}'],
      ['vscode', '{\n  // my servers\n  "servers": {}\n}'],
      ['claude-desktop', '[1, 2]'],
      ['windsurf', '{"mcpServers": ["not", "an", "object"]}'],
      ['codex', '[mcp_servers.other\ncommand = "x"\n'],
    ] as Array<[ClientName, string]>) {
      const home = tempDir();
      const file = join(home, FILES[client]);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, text);
      const run = runCli(['setup', client, '--write'], homeEnv(home));
      expect([client, run.status, run.stdout]).toEqual([client, 1, '']);
      expect(run.stderr.trim().split('\n'), client).toHaveLength(1);
      expect(run.stderr.startsWith(`pinak-memory: ${file}`), run.stderr).toBe(true);
      expect(run.stderr).toMatch(/; nothing was changed\n$/);
      expect(readFileSync(file, 'utf8')).toBe(text);
      expect(readdirSync(dirname(file))).toHaveLength(1);
    }
  });

  it('refuses bad options in one line, doing nothing', () => {
    const home = tempDir();
    for (const [args, message] of [
      [['setup'], /^pinak-memory: usage: pinak-memory setup CLIENT/],
      [['setup', 'emacs'], /unknown client "emacs"; choose one of claude-desktop, claude-code, cursor, vscode, windsurf, codex/],
      [['setup', 'cursor', '--key-env', 'K'], /--key-env is for a server reached over HTTP: give --url too/],
      [['setup', 'cursor', '--url', 'ftp://x'], /--url must be an http:\/\/ or https:\/\/ URL/],
      [['setup', 'cursor', '--url', 'not a url'], /is not a URL/],
      [['setup', 'cursor', '--url', 'https://x/mcp', '--key-env', 'A', '--no-auth'], /give one of --key-env, --key-file and --no-auth/],
      [['setup', 'cursor', '--url', 'https://x/mcp', '--key-env', 'A-B'], /--key-env takes the name of an environment variable/],
      [['setup', 'cursor', '--url', 'https://x/mcp', '--key-file', join(home, 'none')], /cannot read --key-file .*ENOENT/],
      [['setup', 'cursor', '--url', 'https://x/mcp', '--command', 'node'], /--command is for a server the client starts itself/],
      [['setup', 'cursor', '--name', '../x'], /--name "..\/x": a server name starts with a letter/],
      [['setup', 'cursor', '--args', '[1]', '--command', 'node'], /--args must be a JSON array of strings/],
      [['setup', 'cursor', '--port', '80'], /setup does not take --port/],
    ] as Array<[string[], RegExp]>) {
      const run = runCli(args, homeEnv(home));
      expect([args.join(' '), run.status, run.stdout]).toEqual([args.join(' '), 1, '']);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr, args.join(' ')).toMatch(message);
    }
    expect(readdirSync(home)).toEqual([]);
  });

  it('writes a stdio entry the client can start: the server it names answers over MCP on the data directory given', async () => {
    const home = tempDir();
    const dataDir = join(home, 'memory');
    const run = runCli(['setup', 'cursor', '--write', '--installed', '--data-dir', dataDir], homeEnv(home));
    expect(run.status).toBe(0);
    const entry = JSON.parse(readFileSync(join(home, FILES.cursor), 'utf8')).mcpServers['pinak-memory'];
    expect(entry).toEqual({ command: process.execPath, args: [CLI, '--data-dir', dataDir] });
    const transport = new StdioClientTransport({ command: entry.command, args: [...entry.args, '--embed-model', 'none'], env: { PATH: process.env.PATH ?? '' }, stderr: 'ignore' });
    const client = new Client({ name: 'setup-check', version: '0.0.1' });
    await client.connect(transport);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name)).toContain('search_memory');
      expect(existsSync(join(dataDir, 'pinak.db'))).toBe(true);
    } finally {
      await client.close();
    }
  });
});
