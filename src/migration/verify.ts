import { createHash, type Hash } from 'node:crypto';
import { canonicalJson } from '../audit/fingerprint.js';
import type { MemoryStore } from '../store/store.js';
import type { StoreTables } from './tables.js';

/** Docs read per query while digesting vectors. */
const DOC_PAGE = 500;
/** Idempotency records read per query. */
const KEY_PAGE = 1000;

/**
 * What a store holds, reduced to counts and SHA-256 digests that two
 * backends give alike exactly when they hold the same: two stores are
 * compared by their digests, each read from its own end.
 */
export interface StoreDigest {
  memories: number;
  goals: number;
  /** Steps of every plan revision. */
  steps: number;
  outcomes: number;
  /** Every record of exportRecords() (goals with their plans, outcomes, memories), in its order, as canonical JSON. */
  records: string;
  auditRows: number;
  /** Every row of exportAudit(), in order, as canonical JSON. */
  audit: string;
  idempotencyKeys: number;
  idempotency: string;
  models: string;
  /** Records' vectors, each with its model and record id; null when not compared (the target keeps none). */
  vectors: { count: number; digest: string } | null;
  speakerNames: number;
  speakers: string;
  /** The keyword indexes' statistics (rows and tokens BM25 reads). */
  keywordTotals: string;
  /** Postings of both keyword indexes, each named by its record's id (see postingsDigest). */
  postings: { count: number; digest: string };
}

const hex = (hash: Hash): string => hash.digest('hex');

/** Read a store whole and digest it (see StoreDigest). `vectors`: whether to read vectors too. */
export async function digestStore(store: MemoryStore, tables: StoreTables, options: { vectors: boolean }): Promise<StoreDigest> {
  const records = createHash('sha256');
  const counts = { memories: 0, goals: 0, steps: 0, outcomes: 0 };
  for await (const record of store.exportRecords()) {
    records.update(`${canonicalJson(record)}\n`);
    if (record.type === 'memory') counts.memories += 1;
    else if (record.type === 'outcome') counts.outcomes += 1;
    else if (record.type === 'goal') {
      counts.goals += 1;
      counts.steps += record.goal.plans.reduce((sum, plan) => sum + plan.steps.length, 0);
    }
  }

  const audit = createHash('sha256');
  let auditRows = 0;
  for await (const row of store.exportAudit()) {
    audit.update(`${canonicalJson(row)}\n`);
    auditRows += 1;
  }

  const idempotency = createHash('sha256');
  let idempotencyKeys = 0;
  for (let after = ''; ; ) {
    const page = await tables.idempotency(after, KEY_PAGE);
    for (const row of page) idempotency.update(`${canonicalJson(row)}\n`);
    idempotencyKeys += page.length;
    if (page.length < KEY_PAGE) break;
    after = page.at(-1)!.key;
  }

  const models = await tables.models();
  const { names } = await store.speakerNames(0);
  return {
    ...counts,
    records: hex(records),
    auditRows,
    audit: hex(audit),
    idempotencyKeys,
    idempotency: hex(idempotency),
    models: hex(createHash('sha256').update(canonicalJson(models))),
    vectors: options.vectors ? await vectorsDigest(store, tables, models.map((model) => model.model_key)) : null,
    speakerNames: names.length,
    speakers: hex(createHash('sha256').update(JSON.stringify(names))),
    keywordTotals: canonicalJson(await tables.keywordTotals()),
    postings: await postingsDigest(tables),
  };
}

/** Every record's vector, record by record in id order: its id, its model and its bytes as the store returns them. */
async function vectorsDigest(store: MemoryStore, tables: StoreTables, modelKeys: readonly string[]): Promise<{ count: number; digest: string }> {
  const hash = createHash('sha256');
  let count = 0;
  for (let after = ''; ; ) {
    const docs = await tables.docs(after, DOC_PAGE);
    const found = new Map<number, { model: string; vector: Uint8Array }>();
    for (const model of modelKeys) {
      for (const { doc_id, vector } of await store.vectorsOf(docs.map((doc) => doc.doc_id), model)) found.set(doc_id, { model, vector });
    }
    for (const doc of docs) {
      const vector = found.get(doc.doc_id);
      if (!vector) continue;
      hash.update(`${doc.entity_id}\t${vector.model}\t${Buffer.from(vector.vector.buffer, vector.vector.byteOffset, vector.vector.byteLength).toString('base64')}\n`);
      count += 1;
    }
    if (docs.length < DOC_PAGE) break;
    after = docs.at(-1)!.entity_id;
  }
  return { count, digest: hex(hash) };
}

/**
 * The keyword indexes as sets of (index, record id, term, frequency):
 * each posting hashed on its own and the hashes added up (four 32-bit
 * lanes, each modulo 2^32), so that the two ends may read their postings
 * in any order and still agree exactly when they hold the same ones. A
 * record found by other words than in the source (its text rebuilt
 * differently) changes it.
 */
async function postingsDigest(tables: StoreTables): Promise<{ count: number; digest: string }> {
  const lanes = new Uint32Array(4);
  let count = 0;
  for (const index of ['docs', 'windows'] as const) {
    await tables.postings(index, (page) => {
      for (const posting of page) {
        const digest = createHash('sha256').update(`${index}\t${posting.entity_id}\t${posting.term}\t${posting.tf}`).digest();
        for (let lane = 0; lane < 4; lane++) lanes[lane] = (lanes[lane]! + digest.readUInt32BE(lane * 4)) >>> 0;
      }
      count += page.length;
    });
  }
  return { count, digest: Buffer.from(lanes.buffer).toString('hex') };
}

/** What differs between a source's digest and its copy's, in words; empty when they are identical. */
export function differences(source: StoreDigest, target: StoreDigest): string[] {
  const out: string[] = [];
  const count = (what: string, a: number, b: number): void => {
    if (a !== b) out.push(`${what}: ${a} in the source, ${b} in the copy`);
  };
  count('memories', source.memories, target.memories);
  count('goals', source.goals, target.goals);
  count('plan steps', source.steps, target.steps);
  count('outcomes', source.outcomes, target.outcomes);
  if (source.records !== target.records) out.push('the records differ (compare `export` of both)');
  count('audit rows', source.auditRows, target.auditRows);
  if (source.audit !== target.audit) out.push('the audit trails differ (compare `audit export` of both)');
  count('idempotency keys', source.idempotencyKeys, target.idempotencyKeys);
  if (source.idempotency !== target.idempotency) out.push('the idempotency records differ');
  if (source.models !== target.models) out.push('the embedding models differ');
  if (source.vectors && target.vectors) {
    count('vectors', source.vectors.count, target.vectors.count);
    if (source.vectors.digest !== target.vectors.digest) out.push('the vectors differ');
  }
  count('speaker names', source.speakerNames, target.speakerNames);
  if (source.speakers !== target.speakers) out.push('the speaker names differ');
  if (source.keywordTotals !== target.keywordTotals) out.push(`the keyword index statistics differ (${source.keywordTotals} in the source, ${target.keywordTotals} in the copy)`);
  count('keyword postings', source.postings.count, target.postings.count);
  if (source.postings.digest !== target.postings.digest) out.push('the keyword index differs: some records are found by other words than in the source');
  return out;
}
