import { homedir } from 'node:os';
import { posix, win32 } from 'node:path';

/** The MCP clients `setup` knows, by the name given on its command line. */
export const CLIENTS = ['claude-desktop', 'claude-code', 'cursor', 'vscode', 'windsurf', 'codex'] as const;
export type ClientName = (typeof CLIENTS)[number];

/** How the client reaches the server: a process it starts (stdio), or a URL (Streamable HTTP). */
export type Connection =
  | { kind: 'stdio'; command: string; args: string[] }
  | { kind: 'http'; url: string; key: KeySource };

/**
 * Where an HTTP client's API key comes from: an environment variable the
 * client (or its bridge) reads when it connects, the key itself (read from
 * a file by setup, and then written into the client's configuration), or
 * none (a server without authentication).
 */
export type KeySource = { kind: 'env'; name: string } | { kind: 'literal'; key: string } | { kind: 'none' };

/** One client's entry for the server, and how it sits in that client's configuration file. */
export interface ClientEntry {
  /** The file format. */
  format: 'json' | 'toml';
  /** The key of the object the servers are in: mcpServers, servers (VS Code), mcp_servers (Codex). */
  container: string;
  /** The server's entry under container[name]. */
  entry: Record<string, unknown>;
  /** VS Code: input variables the entry refers to (the key, asked for once and kept by VS Code). */
  inputs?: Array<Record<string, unknown>>;
  /** What the user should know: where a variable must be set, what to restart. */
  notes: string[];
  /** It holds the API key itself (--key-file): the file is made readable by its owner alone. */
  secret?: boolean;
}

const BEARER = 'Bearer ';

/** The id of the VS Code input that asks for the key. */
export const VSCODE_KEY_INPUT = 'pinak-memory-api-key';

/** An Authorization header for a client that expands environment variables with `ref(name)`. */
function authHeader(key: KeySource, ref: (name: string) => string): Record<string, string> | undefined {
  if (key.kind === 'none') return undefined;
  return { Authorization: `${BEARER}${key.kind === 'env' ? ref(key.name) : key.key}` };
}

const withHeaders = (entry: Record<string, unknown>, headers: Record<string, string> | undefined): Record<string, unknown> =>
  headers ? { ...entry, headers } : entry;

const envNote = (client: string, key: KeySource, how: string): string[] =>
  key.kind === 'env' ? [`${client} reads the key from the environment variable ${key.name} (${how}): set it where ${client} starts, then restart ${client}.`] : [];

const literalNote = (key: KeySource): string[] =>
  key.kind === 'literal' ? ['The configuration holds the API key itself: keep the file private (--write makes it readable by you alone).'] : [];

/** The entry each client needs, with what to tell the user. */
export function clientEntry(client: ClientName, connection: Connection): ClientEntry {
  const entry = entryFor(client, connection);
  return connection.kind === 'http' && connection.key.kind === 'literal' ? { ...entry, secret: true } : entry;
}

function entryFor(client: ClientName, connection: Connection): ClientEntry {
  const stdio = connection.kind === 'stdio' ? { command: connection.command, args: connection.args } : null;
  const http = connection.kind === 'http' ? connection : null;
  switch (client) {
    case 'claude-desktop': {
      if (stdio) return { format: 'json', container: 'mcpServers', entry: { ...stdio }, notes: ['Quit Claude Desktop completely and start it again to load the server.'] };
      // Its configuration file starts processes only; a remote server goes through the mcp-remote bridge, which
      // expands ${NAME} in its arguments from its own environment (Claude Desktop expands nothing itself).
      const key = http!.key;
      const args = ['-y', 'mcp-remote', http!.url];
      // The bridge refuses plain HTTP except to localhost unless told.
      const { protocol, hostname } = new URL(http!.url);
      if (protocol === 'http:' && hostname !== 'localhost' && hostname !== '127.0.0.1') args.push('--allow-http');
      const entry: Record<string, unknown> = { command: 'npx', args };
      if (key.kind === 'env') args.push('--header', `Authorization:${BEARER}\${${key.name}}`);
      if (key.kind === 'literal') {
        args.push('--header', 'Authorization:${PINAK_AUTH_HEADER}');
        entry.env = { PINAK_AUTH_HEADER: `${BEARER}${key.key}` };
      }
      return {
        format: 'json',
        container: 'mcpServers',
        entry,
        notes: [
          'Claude Desktop starts local processes only: the mcp-remote bridge (from npm) connects it to the URL.',
          ...(key.kind === 'env' ? [`The bridge reads the key from ${key.name} in Claude Desktop's environment (Claude Desktop itself expands no variables): set it there (macOS: launchctl setenv ${key.name} …), or pass --key-file to write the key into the file.`] : []),
          ...literalNote(key),
          'Quit Claude Desktop completely and start it again to load the server.',
        ],
      };
    }
    case 'claude-code':
      if (stdio) return { format: 'json', container: 'mcpServers', entry: { type: 'stdio', ...stdio, env: {} }, notes: [] };
      return {
        format: 'json',
        container: 'mcpServers',
        entry: withHeaders({ type: 'http', url: http!.url }, authHeader(http!.key, (name) => `\${${name}}`)),
        notes: [...envNote('Claude Code', http!.key, `it expands \${${http!.key.kind === 'env' ? http!.key.name : ''}} in headers`), ...literalNote(http!.key)],
      };
    case 'cursor':
      if (stdio) return { format: 'json', container: 'mcpServers', entry: { ...stdio }, notes: [] };
      return {
        format: 'json',
        container: 'mcpServers',
        entry: withHeaders({ url: http!.url }, authHeader(http!.key, (name) => `\${env:${name}}`)),
        notes: [...envNote('Cursor', http!.key, 'it expands ${env:NAME} in headers'), ...literalNote(http!.key)],
      };
    case 'windsurf':
      if (stdio) return { format: 'json', container: 'mcpServers', entry: { ...stdio }, notes: ['Press refresh in the MCP panel of Cascade to load the server.'] };
      return {
        format: 'json',
        container: 'mcpServers',
        entry: withHeaders({ serverUrl: http!.url }, authHeader(http!.key, (name) => `\${env:${name}}`)),
        notes: [...envNote('Windsurf', http!.key, 'it expands ${env:NAME} in headers'), ...literalNote(http!.key)],
      };
    case 'vscode': {
      if (stdio) return { format: 'json', container: 'servers', entry: { type: 'stdio', ...stdio }, notes: [] };
      const key = http!.key;
      // VS Code keeps secrets itself: an input asked for once, stored encrypted, referred to as ${input:ID}.
      if (key.kind === 'env') {
        return {
          format: 'json',
          container: 'servers',
          entry: { type: 'http', url: http!.url, headers: { Authorization: `${BEARER}\${input:${VSCODE_KEY_INPUT}}` } },
          inputs: [{ type: 'promptString', id: VSCODE_KEY_INPUT, description: 'pinak-memory API key', password: true }],
          notes: ['VS Code asks for the API key the first time it starts the server and keeps it in its secret storage (not in the file).'],
        };
      }
      return { format: 'json', container: 'servers', entry: withHeaders({ type: 'http', url: http!.url }, authHeader(key, () => '')), notes: literalNote(key) };
    }
    case 'codex': {
      if (stdio) return { format: 'toml', container: 'mcp_servers', entry: { ...stdio }, notes: [] };
      const key = http!.key;
      const entry: Record<string, unknown> = { url: http!.url };
      // Codex refuses a bearer token written in its file; it reads one from a variable, or takes any header.
      if (key.kind === 'env') entry.bearer_token_env_var = key.name;
      if (key.kind === 'literal') entry.http_headers = { Authorization: `${BEARER}${key.key}` };
      return { format: 'toml', container: 'mcp_servers', entry, notes: [...envNote('Codex', key, 'bearer_token_env_var'), ...literalNote(key)] };
    }
  }
}

/** What the paths depend on: the platform, the environment and the home directory. */
export interface Place {
  platform: NodeJS.Platform;
  env: Readonly<Record<string, string | undefined>>;
}

const nonEmpty = (value: string | undefined): string | undefined => (value === undefined || value === '' ? undefined : value);

/** The home directory: HOME (USERPROFILE on Windows), else the account's. */
export function homeOf(place: Place): string {
  return nonEmpty(place.platform === 'win32' ? (place.env.USERPROFILE ?? place.env.HOME) : place.env.HOME) ?? homedir();
}

/**
 * Each client's user-wide configuration file on this platform. Claude Desktop
 * and VS Code keep theirs with the application's settings (Application
 * Support on macOS, %APPDATA% on Windows, $XDG_CONFIG_HOME or ~/.config on
 * Linux); Cursor, Windsurf, Claude Code and Codex under the home directory
 * (Codex under $CODEX_HOME when set, Claude Code under $CLAUDE_CONFIG_DIR).
 */
export function configPath(client: ClientName, place: Place): string {
  const path = place.platform === 'win32' ? win32 : posix;
  const home = homeOf(place);
  const appData = (): string => nonEmpty(place.env.APPDATA) ?? path.join(home, 'AppData', 'Roaming');
  const xdgConfig = (): string => {
    const xdg = nonEmpty(place.env.XDG_CONFIG_HOME);
    return xdg && path.isAbsolute(xdg) ? xdg : path.join(home, '.config');
  };
  /** Where an application keeps its settings on this platform. */
  const appDir = (name: string): string =>
    place.platform === 'darwin' ? path.join(home, 'Library', 'Application Support', name) : place.platform === 'win32' ? path.join(appData(), name) : path.join(xdgConfig(), name);
  switch (client) {
    case 'claude-desktop':
      return path.join(appDir('Claude'), 'claude_desktop_config.json');
    case 'vscode':
      return path.join(appDir('Code'), 'User', 'mcp.json');
    case 'claude-code':
      return path.join(nonEmpty(place.env.CLAUDE_CONFIG_DIR) ?? home, '.claude.json');
    case 'cursor':
      return path.join(home, '.cursor', 'mcp.json');
    case 'windsurf':
      return path.join(home, '.codeium', 'windsurf', 'mcp_config.json');
    case 'codex':
      return path.join(nonEmpty(place.env.CODEX_HOME) ?? path.join(home, '.codex'), 'config.toml');
  }
}

/** One word of a POSIX shell command line, quoted when it needs to be (so ${NAME} reaches the program as written). */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The `claude mcp add` command line that adds the server for every project of the user. */
export function claudeCodeCommand(name: string, connection: Connection): string {
  const words = ['claude', 'mcp', 'add', '--scope', 'user'];
  if (connection.kind === 'stdio') words.push(name, '--', connection.command, ...connection.args);
  else {
    words.push('--transport', 'http', name, connection.url);
    const header = authHeader(connection.key, (variable) => `\${${variable}}`);
    if (header) words.push('--header', `Authorization: ${header.Authorization}`);
  }
  return words.map(shellWord).join(' ');
}
