import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify as stringifyToml } from 'smol-toml';
import { claudeCodeCommand, clientEntry, CLIENTS, configPath, type ClientName, type Connection, type KeySource } from './client-config.js';
import type { Command, CommandInput } from './command.js';
import { writeEntry } from './config-file.js';
import { settingsOf } from './setting-groups.js';
import { UsageError } from './usage-error.js';

const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DEFAULT_KEY_ENV = 'PINAK_API_KEY';

/** This installation's own entry point, by absolute path: what --installed runs with node. */
const installedCli = (): string => realpathSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'cli.js'));

/** --args: a JSON array of strings, or words separated by spaces. */
function parseArgsOption(text: string): string[] {
  if (!text.trimStart().startsWith('[')) return text.split(/\s+/).filter((word) => word !== '');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError('--args is not a valid JSON array; give words separated by spaces, or a JSON array of strings');
  }
  if (!Array.isArray(value) || !value.every((word) => typeof word === 'string')) throw new UsageError('--args must be a JSON array of strings');
  return value as string[];
}

/** The key an HTTP client sends, from --key-env, --key-file or --no-auth. */
function keySource(options: CommandInput['options']): KeySource {
  const chosen = ['key-env', 'key-file', 'no-auth'].filter((name) => options[name] !== undefined);
  if (chosen.length > 1) throw new UsageError(`give one of --key-env, --key-file and --no-auth, not ${chosen.map((name) => `--${name}`).join(' and ')}`);
  if (options['no-auth'] !== undefined) return { kind: 'none' };
  const file = options['key-file'];
  if (file !== undefined) {
    let key: string;
    try {
      key = readFileSync(file, 'utf8').trim();
    } catch (error) {
      throw new UsageError(`cannot read --key-file ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    if (key === '' || /\s/.test(key)) throw new UsageError(`--key-file ${file} must hold the API key alone, on one line`);
    return { kind: 'literal', key };
  }
  const name = options['key-env'] ?? DEFAULT_KEY_ENV;
  if (!VARIABLE.test(name)) throw new UsageError(`--key-env takes the name of an environment variable (letters, digits and _), not ${JSON.stringify(name)}`);
  return { kind: 'env', name };
}

/** How the client reaches the server, from the options. */
function connection({ options, given }: CommandInput): Connection {
  const stdioOnly = ['command', 'args', 'installed'].filter((name) => options[name] !== undefined);
  const url = options.url;
  if (url !== undefined) {
    if (stdioOnly.length > 0) throw new UsageError(`--url connects over HTTP: --${stdioOnly[0]} is for a server the client starts itself; give one or the other`);
    if (given['data-dir'] !== undefined) throw new UsageError('--data-dir belongs to the server the client starts itself; with --url the server at that URL has its own');
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new UsageError(`--url ${JSON.stringify(url)} is not a URL; give the server's MCP endpoint, e.g. https://memory.example.com/mcp`);
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new UsageError(`--url must be an http:// or https:// URL, not ${parsed.protocol}`);
    return { kind: 'http', url, key: keySource(options) };
  }
  const keyOnly = ['key-env', 'key-file', 'no-auth'].find((name) => options[name] !== undefined);
  if (keyOnly) throw new UsageError(`--${keyOnly} is for a server reached over HTTP: give --url too`);
  if (options.installed !== undefined && (options.command !== undefined || options.args !== undefined)) throw new UsageError('--installed chooses the command itself: leave out --command and --args');
  if (options.args !== undefined && options.command === undefined) throw new UsageError('--args goes with --command');
  const dataDir = given['data-dir'] === undefined ? [] : ['--data-dir', resolve(given['data-dir'])];
  if (options.installed !== undefined) return { kind: 'stdio', command: process.execPath, args: [installedCli(), ...dataDir] };
  if (options.command !== undefined) {
    if (options.command.trim() === '') throw new UsageError('--command needs a program to run');
    return { kind: 'stdio', command: options.command, args: [...parseArgsOption(options.args ?? ''), ...dataDir] };
  }
  return { kind: 'stdio', command: 'npx', args: ['-y', 'pinak-memory', ...dataDir] };
}

/** The snippet to paste into the client's file, as that file is written. */
function snippet(client: ClientName, name: string, conn: Connection): string {
  const wanted = clientEntry(client, conn);
  if (client === 'claude-code') return `${claudeCodeCommand(name, conn)}\n`;
  if (wanted.format === 'toml') return stringifyToml({ [wanted.container]: { [name]: wanted.entry } }).trimEnd() + '\n';
  const config: Record<string, unknown> = { [wanted.container]: { [name]: wanted.entry } };
  if (wanted.inputs) config.inputs = wanted.inputs;
  return `${JSON.stringify(config, null, 2)}\n`;
}

const CLIENT_NAMES: Record<ClientName, string> = {
  'claude-desktop': 'Claude Desktop',
  'claude-code': 'Claude Code',
  cursor: 'Cursor',
  vscode: 'VS Code',
  windsurf: 'Windsurf',
  codex: 'Codex',
};

async function setup(input: CommandInput): Promise<number> {
  const client = input.operands[0]! as ClientName;
  if (!(CLIENTS as readonly string[]).includes(client)) throw new UsageError(`unknown client ${JSON.stringify(input.operands[0])}; choose one of ${CLIENTS.join(', ')}`);
  const name = input.options.name ?? 'pinak-memory';
  if (!NAME.test(name)) throw new UsageError(`--name ${JSON.stringify(name)}: a server name starts with a letter and holds up to 64 letters, digits, _ and -`);
  const conn = connection(input);
  const wanted = clientEntry(client, conn);
  const file = input.options.config === undefined ? configPath(client, { platform: process.platform, env: input.env }) : resolve(input.options.config);
  const say = (line: string): void => void process.stderr.write(`pinak-memory: ${line}\n`);

  if (input.options.write === undefined) {
    process.stdout.write(snippet(client, name, conn));
    say(client === 'claude-code' ? `run that line to add the server, or pinak-memory setup claude-code --write to add it to ${file}` : `put that in ${file} (merged with what is there), or run this again with --write`);
    for (const note of wanted.notes) say(note);
    return 0;
  }
  const result = writeEntry(file, name, wanted);
  if (result.kind === 'unchanged') say(`${CLIENT_NAMES[client]} is already configured: ${file} has the server ${JSON.stringify(name)} as wanted; nothing was changed`);
  else {
    const verb = result.kind === 'added' ? 'added the server' : 'updated the server';
    say(`${verb} ${JSON.stringify(name)} ${result.kind === 'added' ? 'to' : 'in'} ${file}${result.backup ? ` (the previous file is kept as ${result.backup})` : ''}`);
    for (const note of wanted.notes) say(note);
  }
  return 0;
}

export const setupCommand: Command = {
  name: 'setup',
  summary: 'print (or --write) the configuration that connects an MCP client to this server',
  usage: 'setup CLIENT [options]',
  details: `CLIENT is one of ${CLIENTS.join(', ')}.
Without --url the client starts the server itself over stdio (npx -y pinak-memory, or --installed, or
--command and --args; --data-dir is passed on); with --url it connects over HTTP, and the file refers to the
API key by the environment variable --key-env names (default ${DEFAULT_KEY_ENV}) where the client can.
The configuration goes to stdout (for Claude Code, the claude mcp add line). --write merges it into the
client's file instead: other servers and settings are kept, the old file is copied to FILE.TIME.bak first,
and a second run changes nothing. A file that is not valid JSON (TOML for Codex) is refused, untouched.`,
  operands: { min: 1, max: 1 },
  options: {
    url: { type: 'string', value: 'URL', help: 'connect over HTTP to this MCP endpoint (https://…/mcp) instead of starting the server' },
    'key-env': { type: 'string', value: 'NAME', help: `HTTP: the environment variable holding the API key (default ${DEFAULT_KEY_ENV}); the file refers to it, never holds the key` },
    'key-file': { type: 'string', value: 'FILE', help: 'HTTP: read the key from FILE and write it into the configuration (for clients that cannot read a variable)' },
    'no-auth': { type: 'boolean', help: 'HTTP: send no key (a server without authentication)' },
    command: { type: 'string', value: 'CMD', help: 'stdio: the program the client runs (default: npx -y pinak-memory)' },
    args: { type: 'string', value: 'ARGS', help: 'stdio, with --command: its arguments, space separated or a JSON array' },
    installed: { type: 'boolean', help: 'stdio: run this installation (node and its cli.js, by absolute path): for a global install' },
    name: { type: 'string', value: 'NAME', help: 'the server\'s name in the client (default: pinak-memory)' },
    write: { type: 'boolean', help: 'merge it into the client\'s configuration file (backup first) instead of printing it' },
    config: { type: 'string', value: 'FILE', help: 'with --write: this file instead of the client\'s user-wide one (e.g. .vscode/mcp.json, .cursor/mcp.json)' },
  },
  settings: settingsOf('place'),
  run: setup,
};
