import type { Config } from '../config.js';

/** An option a command reads besides the configuration settings. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  /** How its value is shown in help, e.g. FILE. */
  value?: string;
  short?: string;
  help: string;
}

/** What a command gets to run with. */
export interface CommandInput {
  config: Config;
  /** Its own options' values (settings are in config). */
  options: Readonly<Record<string, string | undefined>>;
  /** The arguments after the command's words, e.g. the file of `import FILE`. */
  operands: readonly string[];
  /** The settings as the command line gave them (setup passes --data-dir on only when it was given). */
  given: Readonly<Record<string, string | undefined>>;
  /** The environment (setup finds the clients' configuration files from HOME, APPDATA, XDG_CONFIG_HOME…). */
  env: Readonly<Record<string, string | undefined>>;
}

/**
 * One subcommand: its words, its help, the options and settings it reads
 * (anything else on its command line is refused), and what it does. `run`
 * resolves with the exit code.
 */
export interface Command {
  /** Its words, e.g. "keys create". */
  name: string;
  /** One line for the global help. */
  summary: string;
  /** Its synopsis, after "pinak-memory". */
  usage: string;
  /** A few lines more, for its own help. */
  details?: string;
  /** How many arguments follow its words. */
  operands: { min: number; max: number };
  options: Readonly<Record<string, OptionSpec>>;
  /** The configuration settings it reads, by flag (see config.ts SETTINGS). */
  settings: readonly string[];
  /** Its family (keys, audit): a member's wrong arguments are answered with the family's usage. */
  family?: string;
  /** It leaves timers, workers or sockets behind: the process exits once it returns. */
  exitsProcess?: boolean;
  /**
   * Settings its own options stand for (migrate-store's --to is the database
   * URL it writes to), given before the configuration is read: the settings
   * as the command line gives them, and its options; may refuse a bad value
   * with a UsageError.
   */
  settingsFrom?(settings: Readonly<Record<string, string | undefined>>, options: Readonly<Record<string, string | undefined>>): Record<string, string | undefined>;
  run(input: CommandInput): Promise<number>;
}

/** A family of commands named by a first word (keys, audit), for `pinak-memory keys --help` and bad subcommands. */
export interface Family {
  name: string;
  usage: string;
}
