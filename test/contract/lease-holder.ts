/**
 * A second process on a store's database, for the lease tests: leases are
 * held by a process (every store a process opens is the same holder), so a
 * rival holder has to be another process.
 *
 * Run as `node --import tsx lease-holder.ts <module URL> <export name> <database JSON>`:
 * it imports the backend's `open` function, opens a store on the database, and
 * answers one JSON request per stdin line ({ id, op: 'acquire', name, ttlMs } or
 * { id, op: 'release', name }) with one JSON line on stdout ({ id, value } or
 * { id, error }). It closes the store and exits when stdin ends.
 */
import { createInterface } from 'node:readline';
import type { OpenStore } from './memory-store-contract.js';

type Request = { id: number; op: 'acquire'; name: string; ttlMs: number } | { id: number; op: 'release'; name: string };

const [moduleUrl, exportName, database] = process.argv.slice(2);
if (!moduleUrl || !exportName || database === undefined) throw new Error('usage: lease-holder.ts <module URL> <export name> <database JSON>');
const open = (await import(moduleUrl))[exportName] as OpenStore;
const opened = await open(JSON.parse(database));
process.stdout.write(`${JSON.stringify({ id: 0, value: 'ready' })}\n`);

for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const request = JSON.parse(line) as Request;
  try {
    const value = request.op === 'acquire' ? await opened.store.acquireLease(request.name, request.ttlMs) : (await opened.store.releaseLease(request.name), null);
    process.stdout.write(`${JSON.stringify({ id: request.id, value })}\n`);
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ id: request.id, error: String(error) })}\n`);
  }
}
await opened.close();
