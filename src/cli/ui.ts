import type { Logger } from '../logging.js';
import { isLoopbackHost } from '../transports/http/bind-policy.js';
import type { HttpService } from '../transports/http/http-server.js';
import type { Command } from './command.js';
import { serve } from './serve.js';
import { SETTING_GROUPS, type SettingGroup, settingsOf } from './setting-groups.js';
import { UsageError } from './usage-error.js';

/**
 * The memory browser for this data directory: the HTTP server on a loopback
 * address (a free port unless --port says), and the address to open printed
 * on stdout. While no API key is required, that is a one-time sign-in link:
 * loopback HTTP without keys acts as the local user, so only whoever reads
 * this command's output may sign a browser in (another local user's page or
 * process cannot); with keys, the sign-in page, where a key is entered.
 */
async function announce(service: HttpService, logger: Logger, write: (text: string) => void): Promise<void> {
  const link = await service.localSignInUrl();
  write(`${link ?? `${service.origin}/ui/`}\n`);
  logger.info(
    { url: `${service.origin}/ui/` },
    link ? 'memory browser ready: open the link printed on stdout (it signs in once, within an hour); Ctrl-C stops' : 'memory browser ready: sign in with an API key; Ctrl-C stops',
  );
}

export const uiCommand: Command = {
  name: 'ui',
  summary: 'browse the memories, goals and audit trail in a web browser (on loopback; prints the address to open)',
  usage: 'ui [options]',
  details:
    'Serves MCP over HTTP too, on 127.0.0.1 and a free port unless --host (a loopback address) or --port say otherwise, in one process unless --workers says otherwise. Without API keys, the address printed is a one-time sign-in link (valid once, for an hour); with keys, the sign-in page.',
  operands: { min: 0, max: 0 },
  options: {},
  settings: settingsOf(...(Object.keys(SETTING_GROUPS) as SettingGroup[])).filter((flag) => flag !== 'transport'),
  exitsProcess: true,
  settingsFrom(settings) {
    if (settings.host !== undefined && !isLoopbackHost(settings.host)) throw new UsageError(`pinak-memory ui listens on loopback only (127.0.0.1, ::1, localhost), not ${JSON.stringify(settings.host)}; to serve the browser to other machines, run pinak-memory serve --transport http with API keys`);
    // One person's browser: one serving process unless --workers asks for more.
    return { ...settings, transport: 'http', port: settings.port ?? '0', host: settings.host ?? '127.0.0.1', workers: settings.workers ?? '1' };
  },
  run: ({ config }) => serve(config, (service, logger) => announce(service, logger, (text) => process.stdout.write(text))),
};
