import { SETTINGS } from '../config.js';
import { VERSION } from '../server.js';
import type { Command, Family, OptionSpec } from './command.js';
import { SETTING_GROUPS } from './setting-groups.js';

const COLUMN = 30;

const line = (left: string, right: string): string => (left.length <= COLUMN - 4 ? `  ${left.padEnd(COLUMN - 2)}${right}` : `  ${left}\n${''.padEnd(COLUMN)}${right}`);

/** A command as the command lists show it: its words and arguments, without its options. */
const synopsis = (command: Command): string => command.usage.replace(/ (\[|--).*$/, '');

function optionLine(name: string, option: OptionSpec): string {
  const flag = `${option.short ? `-${option.short}, ` : ''}--${name}${option.value ? ` ${option.value}` : ''}`;
  return line(flag, option.help);
}

const SETTING_BY_FLAG = new Map<string, (typeof SETTINGS)[number]>(SETTINGS.map((s) => [s.flag, s]));

/** A setting: its flag, its environment variable, what it does. */
function settingLines(flag: string): string {
  const setting = SETTING_BY_FLAG.get(flag)!;
  return `${line(`--${flag} VALUE`, setting.env)}\n${''.padEnd(COLUMN)}${setting.help}`;
}

/** `pinak-memory --help`: the commands, and where to read more. */
export function globalHelp(commands: readonly Command[]): string {
  const listed = commands.map((c) => line(synopsis(c), c.summary));
  return `pinak-memory ${VERSION}: a durable, searchable, layered memory for AI agents (MCP server)

Usage: pinak-memory [COMMAND] [OPTIONS]

Commands:
${listed.join('\n')}

Every command reads its data directory from --data-dir DIR or PINAK_DATA_DIR
(default: $XDG_DATA_HOME/pinak-memory, else ~/.local/share/pinak-memory).
pinak-memory COMMAND --help lists a command's options; pinak-memory serve --help
lists every server setting with its PINAK_* environment variable.

${line('-h, --help', 'this help, or a command\'s')}
${line('-v, --version', 'the version')}
`;
}

/** `pinak-memory COMMAND --help`: its synopsis, what it does, and only the options it takes. */
export function commandHelp(command: Command): string {
  const own = Object.entries(command.options);
  const sections: string[] = [];
  if (own.length > 0) sections.push(`Options:\n${own.map(([name, option]) => optionLine(name, option)).join('\n')}`);
  const titled = new Map<string, string[]>();
  for (const group of Object.values(SETTING_GROUPS)) {
    const flags = group.flags.filter((flag) => command.settings.includes(flag));
    if (flags.length > 0) titled.set(group.title, [...(titled.get(group.title) ?? []), ...flags]);
  }
  // A few settings read as one list; serve's many read better under their titles.
  if (command.settings.length <= 8) sections.push(`Settings (flag, environment variable):\n${[...titled.values()].flat().map(settingLines).join('\n')}`);
  else for (const [title, flags] of titled) sections.push(`${title} (flag, environment variable):\n${flags.map(settingLines).join('\n')}`);
  sections.push(line('-h, --help', 'this help'));
  return `pinak-memory ${command.name}: ${command.summary}

Usage: pinak-memory ${command.usage}
${command.details ? `\n${command.details}\n` : ''}
${sections.join('\n\n')}
`;
}

/** `pinak-memory keys --help`: the family's commands. */
export function familyHelp(family: Family, members: readonly Command[]): string {
  return `Usage: ${family.usage}

${members.map((c) => line(synopsis(c), c.summary)).join('\n')}

pinak-memory ${family.name} COMMAND --help lists a command's options.
`;
}
