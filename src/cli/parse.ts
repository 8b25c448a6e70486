import { parseArgs } from 'node:util';
import { SETTINGS } from '../config.js';
import type { Command, Family, OptionSpec } from './command.js';
import { commandHelp, familyHelp, globalHelp } from './help.js';
import { UsageError } from './usage-error.js';

/** What the command line asks for. */
export type CommandLine =
  | { kind: 'print'; text: string }
  | { kind: 'run'; command: Command; options: Record<string, string | undefined>; settings: Record<string, string | undefined>; operands: string[] };

type ParseOptions = Record<string, { type: 'string' | 'boolean'; short?: string }>;

const HELP = { type: 'boolean', short: 'h' } as const;
const VERSION_FLAG = { type: 'boolean', short: 'v' } as const;

const asParseOptions = (options: Readonly<Record<string, OptionSpec>>): ParseOptions =>
  Object.fromEntries(Object.entries(options).map(([name, o]) => [name, o.short ? { type: o.type, short: o.short } : { type: o.type }]));

/**
 * Read the command line: which command (the first words; none is serve), its
 * options, the settings given as flags, and its arguments. Flags may come
 * before or after the command's words. A flag the command does not read is
 * refused in one line that names it and the command's help, never ignored;
 * `--help` anywhere prints the help of the command named, `--version` the version.
 */
export function parseCommandLine(argv: readonly string[], commands: readonly Command[], families: readonly Family[], version: string): CommandLine {
  // Every option any command knows, so that a flag's value is not taken for a command word.
  const known: ParseOptions = { help: HELP, version: VERSION_FLAG };
  for (const command of commands) Object.assign(known, asParseOptions(command.options));
  for (const setting of SETTINGS) known[setting.flag] = { type: 'string' };
  const { tokens, positionals } = parseArgs({ args: [...argv], options: known, strict: false, allowPositionals: true, tokens: true });
  const flags = tokens.flatMap((token) => (token.kind === 'option' ? [token] : []));
  const asksHelp = flags.some((flag) => flag.name === 'help');

  const [first, second] = positionals;
  const family = families.find((f) => f.name === first);
  const command = family
    ? commands.find((c) => c.name === `${first} ${second}`)
    : first === undefined
      ? commands.find((c) => c.name === 'serve')!
      : commands.find((c) => c.name === first);
  const helpRef = command ? `pinak-memory ${command.name} --help` : family ? `pinak-memory ${family.name} --help` : 'pinak-memory --help';

  const unknown = flags.find((flag) => !Object.hasOwn(known, flag.name));
  if (unknown) throw new UsageError(`unknown option ${unknown.rawName}; see ${helpRef}`);
  if (first === undefined && asksHelp) return { kind: 'print', text: globalHelp(commands) };
  if (first === undefined && flags.some((flag) => flag.name === 'version')) return { kind: 'print', text: `${version}\n` };
  if (family && !command) {
    if (asksHelp) return { kind: 'print', text: familyHelp(family, commands.filter((c) => c.family === family.name)) };
    throw new UsageError(`usage: ${family.usage}`);
  }
  if (!command) throw new UsageError(`unknown command ${JSON.stringify(first)}; see pinak-memory --help`);
  if (asksHelp) return { kind: 'print', text: commandHelp(command) };

  const allowed = new Set([...Object.keys(command.options), ...command.settings]);
  const refused = flags.find((flag) => !allowed.has(flag.name));
  if (refused) throw new UsageError(`${command.name} does not take ${refused.rawName}; see ${helpRef}`);

  // Now strictly, with only this command's options: a missing value is an error here.
  let values: Record<string, string | boolean | undefined>;
  try {
    const options: ParseOptions = { ...asParseOptions(command.options) };
    for (const flag of command.settings) options[flag] = { type: 'string' };
    values = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true }).values as Record<string, string | boolean | undefined>;
  } catch (error) {
    throw new UsageError(`${optionProblem((error as Error).message)}; see ${helpRef}`);
  }

  const operands = positionals.slice(command.name.split(' ').length);
  if (operands.length < command.operands.min || operands.length > command.operands.max) {
    if (command.family !== undefined) throw new UsageError(`usage: ${families.find((f) => f.name === command.family)!.usage}`);
    const extra = operands.length > command.operands.max ? `unexpected argument ${JSON.stringify(operands[command.operands.max])}; ` : '';
    throw new UsageError(`${extra}usage: pinak-memory ${command.usage} (see ${helpRef})`);
  }
  const pick = (names: Iterable<string>): Record<string, string | undefined> =>
    Object.fromEntries([...names].map((name) => [name, typeof values[name] === 'string' ? values[name] : values[name] === true ? 'true' : undefined]));
  const options = pick(Object.keys(command.options));
  const settings = pick(command.settings);
  return { kind: 'run', command, options, settings: command.settingsFrom?.(settings, options) ?? settings, operands };
}

/** node:util's parse errors, said the way the rest of our messages are. */
function optionProblem(message: string): string {
  const flag = /'(?:-\w, )?(--[\w-]+)/.exec(message)?.[1];
  if (flag && message.includes('argument missing')) return `${flag} needs a value`;
  if (flag && message.includes('ambiguous')) return `${flag} needs a value; to give one starting with "-", write ${flag}=VALUE`;
  if (flag && message.includes('does not take an argument')) return `${flag} takes no value`;
  return message.split('\n')[0]!.replace(/\.$/, '');
}
