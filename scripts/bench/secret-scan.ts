/**
 * npm run bench:secrets: what the write firewall's secret scan costs a write.
 * Scans (a) every LoCoMo turn of both splits, as conversations are what
 * agents store most, and (b) the firewall corpus, where every text holds a
 * token or a secret and so goes through secretlint. Prints JSON: ms per KiB
 * and per text, and how many texts reached secretlint.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mayHoldToken, scanSecrets } from '../../src/firewall/secret-scan.js';
import { readConversation } from '../eval/locomo-data.js';
import { firewallCorpus } from '../eval/firewall-corpus.js';

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

const report = {
  locomo_turns: await measure(locomoTurns(), 3),
  firewall_corpus: await measure(firewallCorpus().map((s) => s.text), 3),
};
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
