import { keysCommand } from '../auth/key-commands.js';
import { keyStoreLocation } from '../config.js';
import type { Command, CommandInput, Family } from './command.js';
import { settingsOf } from './setting-groups.js';

export const keysFamily: Family = {
  name: 'keys',
  usage: 'pinak-memory keys create --tenant T --role reader|writer|admin [--namespaces a,b] [--expires ISO|30d] [--name LABEL] | keys list | keys revoke ID',
};

/** `keys create | list | revoke ID`: the key itself is printed once, by create, and never again. */
async function keys({ config, options, operands }: CommandInput, words: string[]): Promise<number> {
  const out = await keysCommand(keyStoreLocation(config), [...words, ...operands], options);
  if (out.stdout) process.stdout.write(out.stdout);
  process.stderr.write(out.stderr);
  return 0;
}

const KEY_SETTINGS = settingsOf('place', 'locking', 'postgres');

export const keysCreateCommand: Command = {
  name: 'keys create',
  summary: 'create an API key for HTTP clients; prints it once, on stdout',
  usage: 'keys create --tenant T --role R [options]',
  details: 'The key is shown only this once (its id and limits go to stderr): store it as a secret.',
  operands: { min: 0, max: 0 },
  options: {
    tenant: { type: 'string', value: 'T', help: 'its tenant: 1-63 of a-z 0-9 _ - (required; local is the data directory itself)' },
    role: { type: 'string', value: 'R', help: 'reader, writer or admin (required)' },
    namespaces: { type: 'string', value: 'a,b', help: 'only these namespaces (the first is its default)' },
    expires: { type: 'string', value: 'ISO|30d', help: 'when it stops working: a time, or m/h/d/w from now (default: never)' },
    name: { type: 'string', value: 'LABEL', help: 'a label for keys list' },
  },
  settings: KEY_SETTINGS,
  family: 'keys',
  run: (input) => keys(input, ['create']),
};

export const keysListCommand: Command = {
  name: 'keys list',
  summary: 'list every key: id, name, tenant, role, namespaces, times (never the key itself)',
  usage: 'keys list',
  operands: { min: 0, max: 0 },
  options: {},
  settings: KEY_SETTINGS,
  family: 'keys',
  run: (input) => keys(input, ['list']),
};

export const keysRevokeCommand: Command = {
  name: 'keys revoke',
  summary: 'stop a key at once, in every server process',
  usage: 'keys revoke ID',
  operands: { min: 1, max: 1 },
  options: {},
  settings: KEY_SETTINGS,
  family: 'keys',
  run: (input) => keys(input, ['revoke']),
};
