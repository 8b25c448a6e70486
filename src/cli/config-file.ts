import { isDeepStrictEqual } from 'node:util';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parse as parseToml, stringify as stringifyToml, TomlError } from 'smol-toml';
import type { ClientEntry } from './client-config.js';
import { UsageError } from './usage-error.js';

/** What writing the entry did. */
export type WriteResult =
  | { kind: 'unchanged' }
  | { kind: 'added' | 'updated'; backup: string | null };

type Json = Record<string, unknown>;

/** Parsed TOML as plain JSON values (its tables are not plain objects, its dates are objects), for comparing. */
const plain = (value: unknown): Json => JSON.parse(JSON.stringify(value)) as Json;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The file's text, or null when there is none yet. */
function readExisting(file: string): string | null {
  try {
    if (statSync(file).isDirectory()) throw new UsageError(`${file} is a directory, not a configuration file; nothing was changed`);
    return readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; nothing was changed`);
  }
}

/** Line and column of a character offset, for an error message. */
function position(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `line ${before.length}, column ${before.at(-1)!.length + 1}`;
}

/** Parse a JSON configuration file, refusing anything but an object (with its servers' container an object, if present). */
function parseJsonConfig(file: string, text: string, container: string): Json {
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    // A byte order mark (some Windows editors write one) is not JSON, but is no reason to refuse the file.
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    const offset = /position (\d+)/.exec((error as Error).message)?.[1];
    const where = offset === undefined ? '' : ` at ${position(text, Number(offset))}`;
    const comments = /^\s*\/[/*]/m.test(text) ? ' (comments and trailing commas are not JSON: remove them, or add the entry by hand)' : '';
    throw new UsageError(`${file} is not valid JSON${where}${comments}; fix it, or move it aside to start a new one; nothing was changed`);
  }
  if (!isObject(value)) throw new UsageError(`${file} holds JSON but not an object; fix it, or move it aside to start a new one; nothing was changed`);
  if (container in value && !isObject(value[container])) throw new UsageError(`${file}: "${container}" is not an object; fix it by hand; nothing was changed`);
  return value;
}

/** The indentation the file uses (its first indented line's), so that rewriting it changes only what is added: two spaces by default. */
function indentOf(text: string | null): string {
  const indent = text === null ? undefined : /^([ \t]+)"/m.exec(text)?.[1];
  return indent ?? '  ';
}

/** The new text and whether the entry was there (differently), or null when it is there already as it should be. */
type Merged = { text: string; had: boolean } | null;

/** Merge into a JSON file: the entry (and its inputs) under their keys, everything else as it was. */
function mergeJson(file: string, text: string | null, name: string, wanted: ClientEntry): Merged {
  const config = text === null ? {} : parseJsonConfig(file, text, wanted.container);
  const servers = (config[wanted.container] ?? {}) as Json;
  const inputs = Array.isArray(config.inputs) ? (config.inputs as unknown[]) : [];
  if (config.inputs !== undefined && !Array.isArray(config.inputs)) throw new UsageError(`${file}: "inputs" is not an array; fix it by hand; nothing was changed`);
  const missingInputs = (wanted.inputs ?? []).filter((input) => !inputs.some((have) => isObject(have) && have.id === input.id));
  if (isDeepStrictEqual(servers[name], wanted.entry) && missingInputs.length === 0) return null;
  const merged: Json = { ...config, [wanted.container]: { ...servers, [name]: wanted.entry } };
  if (missingInputs.length > 0) merged.inputs = [...inputs, ...missingInputs];
  return { text: `${JSON.stringify(merged, null, indentOf(text))}\n`, had: servers[name] !== undefined };
}

/** `[mcp_servers.NAME]` or one of its sub-tables (`[mcp_servers.NAME.env]`), however the keys are quoted. */
function headerOf(line: string, container: string, name: string): 'own' | 'other' | null {
  const header = /^\s*\[\s*([^\]]+?)\s*\]\s*(#.*)?$/.exec(line);
  if (!header || line.trimStart().startsWith('[[')) return /^\s*\[/.test(line) ? 'other' : null;
  const parts = header[1]!.split('.').map((part) => part.trim().replace(/^"(.*)"$|^'(.*)'$/, '$1$2'));
  return parts[0] === container && parts[1] === name ? 'own' : 'other';
}

/**
 * The new TOML text, or null when the entry is there already as it should
 * be. The file's own text (comments, order, spacing) is kept: the entry is
 * appended as its own table, or its table (with its sub-tables) is replaced
 * where it stands. The result is parsed again and must hold the same as
 * before except for that one entry, or nothing is written.
 */
function mergeToml(file: string, text: string | null, name: string, wanted: ClientEntry): Merged {
  const source = text ?? '';
  let before: Json;
  try {
    before = plain(parseToml(source));
  } catch (error) {
    const where = error instanceof TomlError ? ` at line ${error.line}, column ${error.column}` : '';
    throw new UsageError(`${file} is not valid TOML${where}; fix it, or move it aside to start a new one; nothing was changed`);
  }
  const servers = before[wanted.container];
  if (servers !== undefined && !isObject(servers)) throw new UsageError(`${file}: ${wanted.container} is not a table; fix it by hand; nothing was changed`);
  if (isDeepStrictEqual(servers?.[name], plain(wanted.entry))) return null;
  const table = stringifyToml({ [wanted.container]: { [name]: wanted.entry } }).trim();
  let next: string;
  if (servers?.[name] === undefined) {
    next = source === '' || source.endsWith('\n\n') ? `${source}${table}\n` : `${source}${source.endsWith('\n') ? '' : '\n'}\n${table}\n`;
  } else {
    const lines = source.split('\n');
    const start = lines.findIndex((line) => headerOf(line, wanted.container, name) === 'own');
    if (start === -1) throw new UsageError(`${file} defines ${wanted.container}.${name} in a form this command does not edit; change it by hand, or choose another --name; nothing was changed`);
    let end = start + 1;
    while (end < lines.length && (headerOf(lines[end]!, wanted.container, name) ?? 'own') === 'own') end += 1;
    const kept = lines.slice(start, end);
    // Blank lines and comments just before the next table belong to it.
    let tail = kept.length;
    while (tail > 1 && /^\s*(#.*)?$/.test(kept[tail - 1]!)) tail -= 1;
    next = [...lines.slice(0, start), table, ...kept.slice(tail), ...lines.slice(end)].join('\n');
    if (!next.endsWith('\n')) next += '\n';
  }
  const after = plain(parseToml(next));
  const rest = (config: Json): Json => {
    const { [wanted.container]: all, ...others } = config;
    if (!isObject(all)) return others;
    const { [name]: _entry, ...otherServers } = all;
    return { ...others, [wanted.container]: otherServers };
  };
  const afterServers = after[wanted.container];
  if (!isObject(afterServers) || !isDeepStrictEqual(afterServers[name], plain(wanted.entry)) || !isDeepStrictEqual(rest(after), rest({ ...before, [wanted.container]: servers ?? {} }))) {
    throw new UsageError(`cannot add the entry to ${file} without changing other settings in it; add it by hand; nothing was changed`);
  }
  return { text: next, had: servers?.[name] !== undefined };
}

/** A name for the backup beside the file, with the time: claude_desktop_config.json.2026-12-07T00-15-03-123Z.bak */
const backupName = (file: string, now: Date): string => `${file}.${now.toISOString().replace(/[:.]/g, '-')}.bak`;

/**
 * Add (or update) the server's entry in a client's configuration file:
 * every other server and setting is kept; a file that cannot be read as
 * its format is refused, untouched; an entry already as wanted changes
 * nothing (no backup either). Otherwise the old file is copied to a
 * timestamped .bak beside it first, and the new one replaces it at once
 * (written beside it, then renamed), keeping its permissions.
 */
export function writeEntry(given: string, name: string, wanted: ClientEntry, now = new Date()): WriteResult {
  // A file kept elsewhere and linked (dotfiles) is changed where it is: the link stays.
  let file = given;
  try {
    file = realpathSync(given);
  } catch {
    // Not there yet (or a dangling link): written as named.
  }
  const text = readExisting(file);
  const merged = wanted.format === 'toml' ? mergeToml(file, text, name, wanted) : mergeJson(file, text, name, wanted);
  if (merged === null) return { kind: 'unchanged' };
  const existed = text !== null;
  let backup: string | null = null;
  const temp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    if (existed) {
      backup = backupName(file, now);
      copyFileSync(file, backup);
    }
    writeFileSync(temp, merged.text, { mode: 0o600, flag: 'wx' });
    // The old file's permissions, but readable by its owner alone once it holds a key.
    if (existed) chmodSync(temp, statSync(file).mode & (wanted.secret ? 0o700 : 0o777));
    renameSync(temp, file);
  } catch (error) {
    if (existsSync(temp)) rmSync(temp, { force: true });
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot write ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return { kind: merged.had ? 'updated' : 'added', backup };
}
