import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { SnapshotManifest } from '../domain/vector-log.js';
import type { HnswGraph } from './hnsw-graph.js';

/** hnswlib's file header: six size_t, two int32, three size_t, a double, a size_t. */
const HEADER_BYTES = 96;
const COUNT_OFFSET = 16;
const BYTES_PER_ELEMENT_OFFSET = 24;

/** A short, file-name-safe tag of a model key, so snapshots of different models never collide. */
export const modelTag = (modelKey: string): string => createHash('sha256').update(modelKey).digest('hex').slice(0, 12);

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Check the header agrees with the expected element count and the file is long enough to hold them. */
async function checkHeader(file: string, expectedSlots: number): Promise<number> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size < HEADER_BYTES) throw new Error(`snapshot is ${size} bytes, shorter than its header`);
    const header = Buffer.alloc(HEADER_BYTES);
    await handle.read(header, 0, HEADER_BYTES, 0);
    const count = Number(header.readBigUInt64LE(COUNT_OFFSET));
    const perElement = Number(header.readBigUInt64LE(BYTES_PER_ELEMENT_OFFSET));
    if (count !== expectedSlots) throw new Error(`snapshot header counts ${count} vectors, expected ${expectedSlots}`);
    if (size < HEADER_BYTES + count * perElement) throw new Error(`snapshot is ${size} bytes, too short for ${count} vectors`);
    return size;
  } finally {
    await handle.close();
  }
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Write a snapshot the safe way: a new file (never over the live one), fsync,
 * check what hnswlib wrote (it reports success even when nothing was written),
 * then rename into place and fsync the directory. Returns its manifest; the
 * caller records it only after this succeeds.
 */
export async function writeSnapshot(graph: HnswGraph, dir: string, modelKey: string, seq: number): Promise<SnapshotManifest> {
  await mkdir(dir, { recursive: true });
  const name = `${modelTag(modelKey)}-${seq}.hnsw`;
  const file = join(dir, name);
  const temp = `${file}.${process.pid}.tmp`;
  try {
    await graph.write(temp);
    await fsyncPath(temp);
    const bytes = await checkHeader(temp, graph.slotsUsed);
    const sha256 = await sha256File(temp);
    await rename(temp, file);
    await fsyncPath(dir);
    return { model_key: modelKey, file: name, seq, count: graph.slotsUsed, dimension: graph.settings.dimension, bytes, sha256, created_at: new Date().toISOString() };
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

const problemOf = (error: unknown): string => ((error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file is missing' : (error as Error).message);

/**
 * Why a snapshot's file cannot even be read, or null when its size and header
 * agree with its manifest: a file that passes is safe to hand to hnswlib (it
 * allocates what the header says), though only its checksum says it is right.
 */
export async function snapshotShapeProblem(dir: string, manifest: SnapshotManifest): Promise<string | null> {
  const file = join(dir, manifest.file);
  try {
    const { size } = await stat(file);
    if (size !== manifest.bytes) return `size ${size} differs from the manifest's ${manifest.bytes}`;
    await checkHeader(file, manifest.count);
    return null;
  } catch (error) {
    return problemOf(error);
  }
}

/** Why a snapshot's content differs from its manifest, or null when the checksum matches. */
export async function snapshotChecksumProblem(dir: string, manifest: SnapshotManifest): Promise<string | null> {
  try {
    return (await sha256File(join(dir, manifest.file))) === manifest.sha256 ? null : 'checksum differs from the manifest';
  } catch (error) {
    return problemOf(error);
  }
}

/** Why a snapshot cannot be trusted, or null when size, header and checksum all match its manifest. */
export async function snapshotProblem(dir: string, manifest: SnapshotManifest): Promise<string | null> {
  return (await snapshotShapeProblem(dir, manifest)) ?? (await snapshotChecksumProblem(dir, manifest));
}

/** Remove this model's other snapshot files and stale temporaries; never another model's current file. */
export async function removeOldSnapshots(dir: string, modelKey: string, keep: string): Promise<void> {
  const tag = modelTag(modelKey);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  await Promise.all(
    names.filter((name) => name.startsWith(`${tag}-`) && name !== keep).map((name) => rm(join(dir, name), { force: true })),
  );
}
