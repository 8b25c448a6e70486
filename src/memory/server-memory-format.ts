import { createHash } from 'node:crypto';
import { z } from 'zod';
import { MemoryError } from '../domain/errors.js';
import { freshMemory, type Memory } from '../domain/memory.js';
import type { Provenance } from '../domain/provenance.js';

/**
 * The knowledge graph of the reference memory server
 * (@modelcontextprotocol/server-memory), one JSON line per record:
 *
 *   {"type":"entity","name":"Kira","entityType":"person","observations":["Prefers tea", …]}
 *   {"type":"relation","from":"Kira","to":"Acme","relationType":"works_at"}
 *
 * Each becomes semantic memories people can search: one per observation
 * ("Kira: Prefers tea"), one naming the entity and its type, one per
 * relation ("Kira works at Acme"), tagged with the entity names and type,
 * their metadata linking them to the graph (`server_memory`). Their ids are
 * derived from the namespace and the record, so importing the file again
 * (or a later copy of it, with more observations) stores only what is new.
 */
export const SERVER_MEMORY_SOURCE = 'server-memory';

const Name = z.string().trim().min(1, 'must not be empty');

const Entity = z.object({
  type: z.literal('entity'),
  name: Name,
  entityType: z.string().trim(),
  observations: z.array(z.string()),
});

const Relation = z.object({
  type: z.literal('relation'),
  from: Name,
  to: Name,
  relationType: Name,
});

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A stable id for one imported record: the shape of our ids (26 Crockford
 * base32 characters), its time part zero, so the ids of imported graph
 * records sort before every memory stored here, and 80 bits of a SHA-256
 * of what it is and where it goes.
 */
export function graphRecordId(namespace: string, ...parts: string[]): string {
  const digest = createHash('sha256').update([SERVER_MEMORY_SOURCE, namespace, ...parts].join('\u0000')).digest();
  let id = '0000000000';
  for (let i = 0; i < 16; i += 1) id += CROCKFORD[digest[i]! & 31];
  return id;
}

/** A tag from a name: one line, at most 64 characters; nothing when empty. */
const tagOf = (name: string): string[] => {
  const tag = Array.from(name.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim()).slice(0, 64).join('').trim();
  return tag === '' ? [] : [tag];
};

const unique = (tags: string[]): string[] => [...new Set(tags)];

const describe = (error: z.ZodError): string =>
  error.issues
    .slice(0, 2)
    .map((issue) => `${issue.path.join('.') || '(line)'}: ${issue.message}`)
    .join('; ');

/**
 * The memories one line of a server-memory file becomes, in `namespace`,
 * stored at `now` with `provenance` (the importer's). A line that is not an entity or a relation of that
 * format is refused with a MemoryError saying what is wrong with it.
 */
export function graphLineMemories(value: Record<string, unknown>, namespace: string, now: string, provenance: Provenance): Memory[] {
  const memory = (id: string, kind: string, content: string, tags: string[], graph: Record<string, unknown>): Memory =>
    freshMemory({ id, layer: 'semantic', kind, content, tags: unique(tags), metadata: { server_memory: graph }, importance: 0.5, namespace, source: SERVER_MEMORY_SOURCE, ...provenance }, now);
  if (value.type === 'entity') {
    const parsed = Entity.safeParse(value);
    if (!parsed.success) throw new MemoryError('invalid_input', `not a server-memory entity: ${describe(parsed.error)}`);
    const { name, entityType, observations } = parsed.data;
    const tags = [...tagOf(name), ...tagOf(entityType)];
    const entity = { entity: name, entity_type: entityType };
    const kept = [...new Set(observations.map((o) => o.trim()).filter((o) => o !== ''))];
    return [
      memory(graphRecordId(namespace, 'entity', name), 'entity', entityType === '' ? name : `${name} (${entityType})`, tags, entity),
      ...kept.map((observation) => memory(graphRecordId(namespace, 'observation', name, observation), 'observation', `${name}: ${observation}`, tags, { ...entity, observation })),
    ];
  }
  if (value.type === 'relation') {
    const parsed = Relation.safeParse(value);
    if (!parsed.success) throw new MemoryError('invalid_input', `not a server-memory relation: ${describe(parsed.error)}`);
    const { from, to, relationType } = parsed.data;
    // "works_at" reads (and is searched) as "works at".
    const words = relationType.replace(/[_-]+/g, ' ').trim() || relationType;
    const relation = { from, to, relation_type: relationType };
    return [memory(graphRecordId(namespace, 'relation', from, relationType, to), 'relation', `${from} ${words} ${to}`, [...tagOf(from), ...tagOf(to)], relation)];
  }
  throw new MemoryError('invalid_input', `not a server-memory record: "type" must be "entity" or "relation"${typeof value.type === 'string' ? `, not ${JSON.stringify(value.type)}` : ''}`);
}
