import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FINGERPRINT_SECRET_FILE } from '../../src/audit/fingerprint-secret.js';
import { callOk } from '../helpers/calls.js';
import { freshDatabase } from '../helpers/postgres.js';
import { seededRandom, sentence } from '../helpers/sentences.js';
import { spawnServer, type Spawned } from '../helpers/spawn-server.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const NODES = 3;
const PER_NODE = 500;
/** Writes in flight at once on each node. */
const LANES = 2;
/** Memories that share a group word: one search (at most 100 hits) finds the whole group. */
const GROUP = 100;

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The word only memory `i` of node `p` holds, and the one its group of GROUP shares. */
const uniqueWord = (p: number, i: number): string => `nd${p}w${i}`;
const groupWord = (p: number, g: number): string => `nd${p}grp${g}`;

const idsOf = (hits: Array<{ id: string }>): string[] => hits.map((hit) => hit.id);

describe('several server processes, on other machines as far as they know, sharing one PostgreSQL database', () => {
  it(`${NODES} nodes each write ${PER_NODE} memories while the others search; a write acknowledged by one is found by another at once, and every node finds all of them`, async () => {
    const database = await freshDatabase();
    cleanups.push(() => database.drop());
    // Each node its own data directory, as on its own machine, holding the same audit fingerprint secret
    // (copied there by whoever deploys them): then a retry with an idempotency key may land on any node.
    const secret = `${randomBytes(32).toString('hex')}\n`;
    const dirs = Array.from({ length: NODES }, () => {
      const temp = makeTempDir('pinak-pg-node-');
      cleanups.push(temp.cleanup);
      writeFileSync(join(temp.dir, FINGERPRINT_SECRET_FILE), secret, { mode: 0o600 });
      return temp.dir;
    });
    const nodes: Spawned[] = await Promise.all(dirs.map((dir) => spawnServer(dir, ['--database-url', database.url, '--embed-model', 'none'])));
    for (const node of nodes) cleanups.push(() => node.close());

    const written: Array<{ node: number; i: number; id: string }> = [];
    let peerSearches = 0;
    const started = performance.now();
    await Promise.all(
      nodes.flatMap((node, p) =>
        Array.from({ length: LANES }, async (_, lane) => {
          const random = seededRandom(500 + p * LANES + lane);
          for (let i = lane; i < PER_NODE; i += LANES) {
            // One memory a call: 1,500 transactions from three processes contend for the same rows
            // (the keyword index's totals, the ids); batches would make 15, and hide that.
            const content = `${sentence(random)} ${uniqueWord(p, i)} ${groupWord(p, Math.floor(i / GROUP))}`;
            const { stored } = await callOk(node.client, 'remember', { content });
            const id = stored[0].id as string;
            written.push({ node: p, i, id });
            // At once, on another node: no wait, no second try.
            const peer = nodes[(p + 1 + (i % (NODES - 1))) % NODES]!;
            const { hits } = await callOk(peer.client, 'search_memory', { query: uniqueWord(p, i), mode: 'keyword', limit: 5 });
            expect(idsOf(hits), `${uniqueWord(p, i)} written on node ${p}`).toEqual([id]);
            peerSearches += 1;
          }
        }),
      ),
    );
    const loadMs = performance.now() - started;
    expect(written).toHaveLength(NODES * PER_NODE);
    expect(peerSearches).toBe(NODES * PER_NODE);

    // Every node finds every memory, by the word of its group, and counts them all.
    const checkStarted = performance.now();
    const expected = new Map(written.map((w) => [`${w.node}/${Math.floor(w.i / GROUP)}`, [] as string[]]));
    for (const w of written) expected.get(`${w.node}/${Math.floor(w.i / GROUP)}`)!.push(w.id);
    for (const node of nodes) {
      for (let p = 0; p < NODES; p++) {
        for (let g = 0; g < PER_NODE / GROUP; g++) {
          const { hits } = await callOk(node.client, 'search_memory', { query: groupWord(p, g), mode: 'keyword', limit: GROUP });
          expect(idsOf(hits).sort(), groupWord(p, g)).toEqual([...expected.get(`${p}/${g}`)!].sort());
        }
      }
      const stats = await callOk(node.client, 'memory_stats');
      expect(stats.memories_total).toBe(NODES * PER_NODE);
      expect(stats.by_namespace).toEqual({ default: NODES * PER_NODE });
    }
    process.stderr.write(
      `postgres-nodes: ${NODES * PER_NODE} writes and as many searches on peers in ${Math.round(loadMs)} ms; every node checked in ${Math.round(performance.now() - checkStarted)} ms\n`,
    );

    // A write retried on another node with its idempotency key (its first node's answer lost, say) gets the first answer, on every node.
    const args = { content: 'the retry went to another node', idempotency_key: 'cross-node-retry' };
    const first = (await callOk(nodes[0]!.client, 'remember', args)).stored[0].id;
    for (const node of nodes.slice(1)) expect((await callOk(node.client, 'remember', args)).stored[0].id).toBe(first);
    for (const node of nodes) expect((await callOk(node.client, 'memory_stats')).memories_total).toBe(NODES * PER_NODE + 1);

    for (const node of nodes) expect(node.stderr().split('\n').filter((line) => /"level":(50|60)/.test(line))).toEqual([]);
  }, 120_000);
});
