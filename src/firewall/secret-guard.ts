import { MemoryError } from '../domain/errors.js';
import { redact, scanSecrets, type SecretFinding } from './secret-scan.js';

/** What a write does with a secret in its text: store a mark instead (the default), refuse the write, or store it as sent. */
export const SECRET_ACTIONS = ['redact', 'refuse', 'allow'] as const;
export type SecretAction = (typeof SECRET_ACTIONS)[number];

/** The action for every namespace, and the namespaces that chose another. */
export interface SecretPolicy {
  readonly action: SecretAction;
  readonly byNamespace: ReadonlyMap<string, SecretAction>;
}

export const DEFAULT_SECRET_POLICY: SecretPolicy = { action: 'redact', byNamespace: new Map() };

/** A field of a write whose secrets were replaced by marks, and their kinds (never the secrets). */
export interface RedactedField {
  readonly field: string;
  readonly kinds: string[];
}

/**
 * The secret check of one write, in one namespace: every text field passes
 * through it before anything is indexed or stored, so a redacted secret
 * never reaches the database, the keyword index, the vectors or an export.
 * It keeps the list of fields it redacted, for the write's answer.
 */
export class SecretGuard {
  readonly redacted: RedactedField[] = [];
  private readonly action: SecretAction;

  constructor(
    policy: SecretPolicy,
    private readonly namespace: string,
  ) {
    this.action = policy.byNamespace.get(namespace) ?? policy.action;
  }

  /** The text as it may be stored; throws for a secret where the namespace refuses them. */
  async text(field: string, text: string): Promise<string> {
    if (this.action === 'allow' || text.length === 0) return text;
    return this.decide(field, text, await scanSecrets(text));
  }

  /**
   * A record's source reference (a URL or a tool name): checked as any text
   * (a password in the URL), and a URL's parameters whose name says they hold
   * a credential (token, key, secret, signature, …) are secrets whatever
   * their value looks like.
   */
  async reference(field: string, text: string): Promise<string> {
    if (this.action === 'allow') return text;
    const checked = await this.text(field, text);
    return this.decide(field, checked, credentialParameters(checked));
  }

  /** A JSON value (metadata, metrics) with every string in it checked, keys included. */
  async json<T>(field: string, value: T): Promise<T> {
    if (this.action === 'allow') return value;
    return (await this.walk(field, value)) as T;
  }

  private decide(field: string, text: string, findings: readonly SecretFinding[]): string {
    if (findings.length === 0) return text;
    const kinds = [...new Set(findings.map((f) => f.kind))];
    if (this.action === 'refuse') {
      throw new MemoryError(
        'invalid_input',
        `${field} holds what looks like a secret (${kinds.join(', ')}); namespace "${this.namespace}" refuses secrets: remove it and send again`,
      );
    }
    this.redacted.push({ field, kinds });
    return redact(text, findings);
  }

  /** A string under a key, checked with its key before it: { "password": "…" } names its value a secret as "password: …" does. */
  private async named(field: string, key: string, text: string): Promise<string> {
    const prefix = `${key}: `;
    const findings = (await scanSecrets(prefix + text))
      .filter((f) => f.end > prefix.length)
      .map((f) => ({ kind: f.kind, start: Math.max(0, f.start - prefix.length), end: f.end - prefix.length }));
    return this.decide(field, text, findings);
  }

  private async walk(field: string, value: unknown): Promise<unknown> {
    if (typeof value === 'string') return this.text(field, value);
    if (Array.isArray(value)) return Promise.all(value.map((item, i) => this.walk(`${field}[${i}]`, item)));
    if (value === null || typeof value !== 'object') return value;
    const out: Record<string, unknown> = {};
    for (const [rawKey, item] of Object.entries(value)) {
      const key = await this.text(`${field} key`, rawKey);
      out[key] = typeof item === 'string' ? await this.named(`${field}.${key}`, key, item) : await this.walk(`${field}.${key}`, item);
    }
    return out;
  }
}

/** Words that, as a part of a URL parameter's name (split at _ - .), say its value is a credential: `access_token`, `api-key`, `X-Amz-Signature`, `sig`. */
const CREDENTIAL_WORDS = new Set(['token', 'accesstoken', 'key', 'apikey', 'secret', 'password', 'passwd', 'pwd', 'pass', 'sig', 'signature', 'auth', 'credential', 'credentials', 'code', 'session', 'sessionid', 'sid', 'jwt', 'bearer']);
const URL_PARAMETER = /[?&#;]([^=&#;?\s]+)=([^&#;\s]+)/gu;

/** The values of a URL's parameters named for a credential (not those already redacted). */
function credentialParameters(text: string): SecretFinding[] {
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text)) return [];
  const found: SecretFinding[] = [];
  for (const match of text.matchAll(URL_PARAMETER)) {
    const [whole, name, value] = match as unknown as [string, string, string];
    if (value.startsWith('[redacted') || !name.toLowerCase().split(/[_.-]/u).some((part) => CREDENTIAL_WORDS.has(part))) continue;
    const start = match.index + whole.length - value.length;
    found.push({ kind: 'url-credential', start, end: start + value.length });
  }
  return found;
}
