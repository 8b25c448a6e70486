#!/usr/bin/env node
import { FingerprintSecretError } from './audit/fingerprint-secret.js';
import { COMMANDS, FAMILIES } from './cli/commands.js';
import { OutputError } from './cli/output.js';
import { parseCommandLine } from './cli/parse.js';
import { UsageError } from './cli/usage-error.js';
import { ConfigError, resolveConfig } from './config.js';
import { MemoryError, StartupError } from './domain/errors.js';
import { VERSION } from './server.js';
import { HttpStartError } from './transports/http/bind-policy.js';

function fail(message: string): never {
  process.stderr.write(`pinak-memory: ${message}\n`);
  process.exit(1);
}

/** argv → command → config → run; the one place that reads the environment or exits the process. */
async function main(argv: string[]): Promise<void> {
  const line = parseCommandLine(argv, COMMANDS, FAMILIES, VERSION);
  if (line.kind === 'print') return void process.stdout.write(line.text);
  const config = resolveConfig(line.settings, process.env);
  const code = await line.command.run({ config, options: line.options, operands: line.operands, given: line.settings, env: process.env });
  if (line.command.exitsProcess) process.exit(code);
  process.exitCode = code;
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof UsageError || error instanceof OutputError || error instanceof MemoryError || error instanceof HttpStartError || error instanceof FingerprintSecretError || error instanceof StartupError) fail(error.message);
  const code = (error as { code?: string }).code;
  if (typeof code === 'string' && /^(SQLITE_|E[A-Z]+$)/.test(code)) fail(`cannot open the memory database: ${(error as Error).message} (${code})`);
  process.stderr.write(`pinak-memory: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
