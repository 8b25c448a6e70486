/**
 * npm run bench:secrets: what the write firewall's scans cost a write.
 * Scans (a) every LoCoMo turn of both splits, as conversations are what
 * agents store most, and (b) the firewall corpus, where every text holds a
 * token or a secret and so goes through secretlint. Prints JSON: ms per KiB
 * and per text, and how many texts reached secretlint. Then the injection
 * detector that runs after it on every remembered text (`injection`): alone
 * and both together (`total_ms_per_kib`: what a write pays), over the same
 * turns, over pages of about 4 KiB made of them (what a web page stored
 * whole looks like), and over the injection corpus.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mayHoldToken, scanSecrets } from '../../src/firewall/secret-scan.js';
import { scanInjection } from '../../src/firewall/injection-scan.js';
import { readConversation } from '../eval/locomo-data.js';
import { firewallCorpus, injectionCorpus } from '../eval/firewall-corpus.js';

const DATASETS = join(import.meta.dirname, '../../../shared/datasets');

function locomoTurns(): string[] {
  const texts: string[] = [];
  for (const split of ['locomo-dev', 'locomo-validation']) {
    for (const file of readdirSync(join(DATASETS, split)).filter((f) => f.endsWith('.json'))) {
      const conversation = readConversation(file, JSON.parse(readFileSync(join(DATASETS, split, file), 'utf8')));
      for (const session of conversation.sessions) texts.push(...session.turns.map((t) => t.content));
    }
  }
  return texts;
}

async function measure(texts: readonly string[], rounds: number) {
  for (const text of texts.slice(0, 200)) await scanSecrets(text); // warm-up
  const bytes = texts.reduce((sum, t) => sum + Buffer.byteLength(t), 0) * rounds;
  const started = performance.now();
  for (let r = 0; r < rounds; r++) for (const text of texts) await scanSecrets(text);
  const ms = performance.now() - started;
  const count = texts.length * rounds;
  return {
    texts: texts.length,
    mean_bytes: Math.round(bytes / count),
    to_secretlint: texts.filter(mayHoldToken).length,
    ms_per_kib: Number((ms / (bytes / 1024)).toFixed(4)),
    ms_per_text: Number((ms / count).toFixed(4)),
  };
}

/** ms per KiB and per text of the injection scan alone, and of both scans one after the other (what remember runs). */
async function measureBoth(texts: readonly string[], rounds: number) {
  for (const text of texts.slice(0, 200)) scanInjection(text); // warm-up
  const bytes = texts.reduce((sum, t) => sum + Buffer.byteLength(t), 0) * rounds;
  const count = texts.length * rounds;
  let started = performance.now();
  let flagged = 0;
  for (let r = 0; r < rounds; r++) for (const text of texts) if (scanInjection(text).flagged) flagged++;
  const injectionMs = performance.now() - started;
  started = performance.now();
  for (let r = 0; r < rounds; r++) for (const text of texts) scanInjection(await scanSecrets(text).then(() => text));
  const totalMs = performance.now() - started;
  return {
    texts: texts.length,
    mean_bytes: Math.round(bytes / count),
    flagged: flagged / rounds,
    injection_ms_per_kib: Number((injectionMs / (bytes / 1024)).toFixed(4)),
    injection_ms_per_text: Number((injectionMs / count).toFixed(4)),
    total_ms_per_kib: Number((totalMs / (bytes / 1024)).toFixed(4)),
    total_ms_per_text: Number((totalMs / count).toFixed(4)),
  };
}

/** Turns joined into pages of about 4 KiB. */
function pages(turns: readonly string[]): string[] {
  const out: string[] = [];
  let page = '';
  for (const turn of turns) {
    page += `${turn}\n`;
    if (page.length >= 4096) {
      out.push(page);
      page = '';
    }
  }
  return out;
}

const turns = locomoTurns();
const report = {
  locomo_turns: await measure(turns, 3),
  firewall_corpus: await measure(firewallCorpus().map((s) => s.text), 3),
  injection: {
    locomo_turns: await measureBoth(turns, 3),
    locomo_pages_4kib: await measureBoth(pages(turns), 3),
    injection_corpus: await measureBoth(injectionCorpus().map((s) => s.text), 3),
  },
};
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
