/**
 * Generate deploy/haproxy.cfg from scripts/lib/haproxy-config.ts. `--check`
 * fails (exit 1) when the file is stale, without writing.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HAPROXY_CFG, haproxyConfig, SHIPPED_HAPROXY } from './lib/haproxy-config.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const path = join(ROOT, HAPROXY_CFG);
const expected = haproxyConfig(SHIPPED_HAPROXY);
let current: string | null = null;
try {
  current = readFileSync(path, 'utf8');
} catch {
  current = null;
}
if (process.argv.includes('--check')) {
  if (current !== expected) {
    process.stderr.write(`${HAPROXY_CFG} is stale: run npm run gen:deploy\n`);
    process.exit(1);
  }
} else if (current !== expected) {
  writeFileSync(path, expected);
  process.stderr.write(`wrote ${HAPROXY_CFG}\n`);
}
