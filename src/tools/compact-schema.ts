import { BARE, NO_CONTROL_CHARACTERS } from '../domain/fields.js';

type Json = Record<string, unknown>;

/** z.number().int() states JavaScript's safe-integer range, which tells a model nothing. */
const SAFE_INTEGER = Number.MAX_SAFE_INTEGER;
/** The control-character rule of labels, ids and keys (fields.ts singleLine), which no model needs to be told, nor their length limits. */
const LABEL_PATTERN = NO_CONTROL_CHARACTERS.source;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
/** A default of nothing ([], {} or "") says no more than that the field is optional. */
const isEmpty = (value: unknown): boolean => value === '' || (Array.isArray(value) ? value.length === 0 : isObject(value) && Object.keys(value).length === 0);

/** The definitions a schema refers to by `$ref`, and which of them refer to themselves (a JSON value). */
function definitionsOf(schema: Json): { definitions: Json; recursive: Set<string> } {
  const definitions = isObject(schema.definitions) ? schema.definitions : isObject(schema.$defs) ? schema.$defs : {};
  const refsIn = (node: unknown, found = new Set<string>()): Set<string> => {
    if (Array.isArray(node)) node.forEach((item) => refsIn(item, found));
    else if (isObject(node)) {
      if (typeof node.$ref === 'string') found.add(node.$ref.replace(/^#\/(?:definitions|\$defs)\//, ''));
      Object.values(node).forEach((value) => refsIn(value, found));
    }
    return found;
  };
  const recursive = new Set<string>();
  for (const name of Object.keys(definitions)) {
    const seen = new Set<string>();
    const pending = [...refsIn(definitions[name])];
    while (pending.length > 0) {
      const next = pending.pop()!;
      if (next === name) recursive.add(name);
      if (seen.has(next)) continue;
      seen.add(next);
      pending.push(...refsIn(definitions[next]));
    }
  }
  return { definitions, recursive };
}

/**
 * The input schema as tools/list publishes it: what a model needs to choose
 * and fill in the arguments, in as few bytes as that takes, since every
 * conversation pays for it. Flat: definitions are inlined (a recursive one,
 * a free JSON value, becomes `{}`), as several clients resolve no `$ref`.
 * Left out, as nothing a model would choose differently for: examples, the
 * description of a field marked bare (fields.ts BARE), a
 * field's description already given higher up (a batch item repeats the
 * single-memory fields), safe-integer bounds, `minLength: 1`, a list's
 * limit that its enum sets anyway, empty defaults, the
 * control-character pattern and length limit of labels and ids,
 * `additionalProperties: false` and `propertyNames` of string keys. The server validates against the full
 * schemas, which schemas/ holds, examples included, and explains a refusal.
 */
export function compactInputSchema(schema: Json): Json {
  const { definitions, recursive } = definitionsOf(schema);
  /** "name: description" of every property described so far. */
  const described = new Set<string>();
  // Breadth-first, so the shallowest occurrence of a description is the one kept.
  const queue: Array<{ from: Json; into: Json; name: string | null }> = [];
  const copy = (node: Json, name: string | null): Json => {
    const into: Json = {};
    queue.push({ from: node, into, name });
    return into;
  };
  const refName = (node: Json): string | null => (typeof node.$ref === 'string' ? node.$ref.replace(/^#\/(?:definitions|\$defs)\//, '') : null);
  /** Any JSON value: no schema, or one that refers to itself. */
  const anything = (node: unknown): boolean => isObject(node) && (Object.keys(node).length === 0 || recursive.has(refName(node) ?? ''));
  const convert = (value: unknown, name: string | null = null): unknown => {
    if (Array.isArray(value)) return value.map((item) => convert(item));
    if (!isObject(value)) return value;
    const ref = refName(value);
    if (ref !== null) return anything(value) || !isObject(definitions[ref]) ? {} : copy(definitions[ref], name);
    // A name or "*": one string, its forms told by the description.
    if (Array.isArray(value.anyOf) && value.anyOf.every((option) => isObject(option) && option.type === 'string')) {
      const { anyOf: _options, ...rest } = value;
      return copy({ ...rest, type: 'string' }, name);
    }
    return copy(value, name);
  };
  const root = copy(schema, null);
  while (queue.length > 0) {
    const { from, into, name } = queue.shift()!;
    const label = from.pattern === LABEL_PATTERN;
    const bareField = from[BARE] === true;
    for (const [key, value] of Object.entries(from)) {
      if (key === 'examples' || key === 'definitions' || key === '$defs' || key === '$schema' || key === BARE) continue;
      if (key === 'description' && bareField) continue;
      if ((key === 'minimum' && value === -SAFE_INTEGER) || (key === 'maximum' && value === SAFE_INTEGER)) continue;
      if (key === 'minLength' && value === 1) continue;
      if (label && (key === 'pattern' || key === 'maxLength')) continue;
      if (key === 'propertyNames' && isObject(value) && value.type === 'string' && Object.keys(value).length === 1) continue;
      // Unknown fields are refused with a message naming them; a model sends the fields it is shown.
      if (key === 'additionalProperties' && (anything(value) || value === false)) continue;
      if (key === 'default' && isEmpty(value)) continue;
      // As many items as the enum has values: no limit at all.
      if (key === 'maxItems' && isObject(from.items) && Array.isArray(from.items.enum) && from.items.enum.length <= Number(value)) continue;
      if (key === 'description' && typeof value === 'string' && name !== null) {
        if (described.has(`${name}: ${value}`)) continue;
        described.add(`${name}: ${value}`);
      }
      // The keys of "properties" are names (a goal has a "description"), not keywords.
      into[key] = key === 'properties' && isObject(value) ? Object.fromEntries(Object.entries(value).map(([field, sub]) => [field, convert(sub, field)])) : convert(value);
    }
  }
  return withSharedItems(root);
}

/**
 * A list whose items have the tool's own top-level fields (remember's batch
 * of memories) shows only which of them each item requires: the fields are
 * described once, above.
 */
function withSharedItems(schema: Json): Json {
  const fields = isObject(schema.properties) ? schema.properties : {};
  const bare = (field: unknown): string => JSON.stringify(isObject(field) ? { ...field, description: undefined } : field);
  for (const list of Object.values(fields)) {
    if (!isObject(list) || !isObject(list.items) || !isObject(list.items.properties)) continue;
    const item = list.items;
    const shared = Object.entries(item.properties as Json).every(([name, field]) => name in fields && bare(fields[name]) === bare(field));
    if (shared) list.items = { type: 'object', ...(item.required ? { required: item.required } : {}) };
  }
  return schema;
}
