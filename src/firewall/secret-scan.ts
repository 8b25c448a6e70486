import { lintSource } from '@secretlint/core';
import { creator as recommended } from '@secretlint/secretlint-rule-preset-recommend';

/** A secret found in a text: what kind, and where (UTF-16 offsets, end exclusive). */
export interface SecretFinding {
  readonly kind: string;
  readonly start: number;
  readonly end: number;
}

/**
 * secretlint's recommended rules (cloud and API keys, private keys, tokens of
 * two dozen services, passwords in URLs and connection strings), with AWS
 * access key ids reported too: an id next to its secret in a memory is half
 * of a credential, and alone it still names an account.
 */
const CONFIG: Parameters<typeof lintSource>[0]['options']['config'] = {
  rules: [
    {
      id: '@secretlint/secretlint-rule-preset-recommend',
      rule: recommended,
      rules: [{ id: '@secretlint/secretlint-rule-aws', options: { enableIDScanRule: true } }],
    },
  ],
};

/** secretlint's rule or message, in the words of a redaction mark. */
const KIND_OF_MESSAGE: Record<string, string | null> = {
  AWSAccessKeyID: 'aws-access-key',
  AWSSecretAccessKey: 'aws-secret-key',
  // An account number is no secret.
  AWSAccountID: null,
};
const KIND_OF_RULE: Record<string, string> = {
  privatekey: 'private-key',
  basicauth: 'url-password',
  'database-connection-string': 'database-password',
  openai: 'openai-key',
  anthropic: 'anthropic-key',
  gcp: 'gcp-key',
  docker: 'docker-auth',
};
const RULE_PREFIX = '@secretlint/secretlint-rule-';

function kindOf(ruleId: string, messageId: string): string | null {
  if (messageId in KIND_OF_MESSAGE) return KIND_OF_MESSAGE[messageId]!;
  const rule = ruleId.startsWith(RULE_PREFIX) ? ruleId.slice(RULE_PREFIX.length) : ruleId;
  return KIND_OF_RULE[rule] ?? `${rule}-token`;
}

/**
 * Whether a text may hold a secret secretlint knows: a long token of letters
 * and digits, a password in a URL, or a PEM block. Most memories hold none of
 * these and skip secretlint, whose every call costs about a third of a
 * millisecond however short the text.
 */
export function mayHoldToken(text: string): boolean {
  if (text.includes('-----BEGIN') || /:\/\/[^\s/@]+@/.test(text)) return true;
  for (const token of text.split(/[\s"'`,;()<>[\]{}|\\]+/)) {
    // Long, and not a word: digits, an underscore, or capitals inside (hf_ tokens are letters only).
    if (token.length >= 16 && /[A-Za-z]/.test(token) && (/\d|_/.test(token) || /[a-z][A-Z]/.test(token))) return true;
  }
  return false;
}

/**
 * What secretlint's rules miss, measured on the corpus of `npm run
 * eval:firewall`: OpenAI's project, service-account and admin keys (newer
 * than its rule); SendGrid keys and AWS secret keys that end in - or +; PEM
 * private keys of any kind (its rule wants a body starting as RSA and PKCS#8
 * keys do, so EC keys and cut-off pastes passed); and passwords in URLs of
 * any scheme and host (its rule knows http and ftp, and passwords of
 * letters, digits, - and _ only).
 */
const PATTERNS: Array<{ kind: string; pattern: RegExp; group?: number }> = [
  { kind: 'openai-key', pattern: /\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}/dg },
  { kind: 'sendgrid-token', pattern: /\bSG\.[\w-]{20,24}\.[\w-]{40,50}/dg },
  { kind: 'aws-secret-key', pattern: /\baws_?secret_?access_?key["']?\s*[:=]\s*["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])/dgi, group: 1 },
  { kind: 'private-key', pattern: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\\n]*[A-Za-z0-9+/=\s\\]{40,}?(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|$)/dg },
  { kind: 'url-password', pattern: /\b[a-z][a-z0-9+.-]{1,20}:\/\/[^\s:/@]{1,256}:([^\s/@]{1,256})@/dgi, group: 1 },
];

/** A value given to a name that says it is secret: `password: …`, `api_key=…`, `"client_secret": "…"`. */
const NAMED_SECRET = /\b(?:passwords?|passwd|pwd|passphrase|secret|client[_-]?secret|api[_-]?key|access[_-]?token|auth[_-]?token|refresh[_-]?token|private[_-]?key)["']?\s*(?:[:=]|\bis\b)\s*["']?([^\s"'`,;()<>[\]{}]{6,})/gi;

/** Placeholders, not secrets: <your-key>, ${TOKEN}, ****, xxxx, changeme. */
const PLACEHOLDER = /^(?:<.*>|\$\{?.*\}?|\{\{.*\}\}|[*x.X#-]+|changeme|password|secret|example|redacted|none|null|undefined|true|false)$/i;

function namedSecrets(text: string): SecretFinding[] {
  const found: SecretFinding[] = [];
  for (const match of text.matchAll(NAMED_SECRET)) {
    const value = match[1]!;
    // A secret value mixes letters with digits or symbols; a word, an expression reading a variable or a number is not one.
    if (PLACEHOLDER.test(value) || !/[A-Za-z]/.test(value) || !/[\d!@#$%^&*+=?~]/.test(value) || value.startsWith('[redacted')) continue;
    const start = match.index + match[0].length - value.length;
    found.push({ kind: 'password', start, end: start + value.length });
  }
  return found;
}

/** Card numbers: 13 to 19 digits (spaces or dashes between groups allowed) of a card network's ranges that pass the Luhn check. */
const CARD_CANDIDATE = /(?<![\d.])(?:\d[ -]?){12,18}\d(?![\d.])/g;
const CARD_NETWORK = /^(?:4|5[1-5]|2[2-7]|3[47]|6(?:011|5|4[4-9])|35|36|38|30[0-5])/;

export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

function cardNumbers(text: string): SecretFinding[] {
  const found: SecretFinding[] = [];
  for (const match of text.matchAll(CARD_CANDIDATE)) {
    const digits = match[0].replace(/[ -]/g, '');
    if (digits.length < 13 || digits.length > 19 || !CARD_NETWORK.test(digits) || /^(\d)\1+$/.test(digits) || !luhnValid(digits)) continue;
    found.push({ kind: 'card-number', start: match.index, end: match.index + match[0].length });
  }
  return found;
}

function patterned(text: string): SecretFinding[] {
  const found: SecretFinding[] = [];
  for (const { kind, pattern, group } of PATTERNS) {
    for (const match of text.matchAll(pattern)) {
      const [start, end] = match.indices![group ?? 0]!;
      found.push({ kind, start, end });
    }
  }
  return found;
}

/** Overlapping findings merged, in text order; of two starting together, the longer, then the one found first, names the kind. */
function merged(findings: SecretFinding[]): SecretFinding[] {
  const sorted = [...findings].sort((a, b) => a.start - b.start || b.end - a.end);
  const out: SecretFinding[] = [];
  for (const finding of sorted) {
    const last = out.at(-1);
    if (last && finding.start < last.end) {
      if (finding.end > last.end) out[out.length - 1] = { ...last, end: finding.end };
    } else {
      out.push(finding);
    }
  }
  return out;
}

/** The secrets in a text: card numbers, our patterns and secretlint's rules, then values named as secrets. */
export async function scanSecrets(text: string): Promise<SecretFinding[]> {
  const findings: SecretFinding[] = cardNumbers(text);
  if (mayHoldToken(text)) {
    findings.push(...patterned(text));
    const result = await lintSource({
      source: { content: text, filePath: 'memory.txt', ext: '.txt', contentType: 'text' },
      options: { config: CONFIG, noPhysicFilePath: true },
    });
    for (const message of result.messages) {
      const kind = kindOf(message.ruleId, message.messageId);
      if (kind !== null) findings.push({ kind, start: message.range[0], end: message.range[1] });
    }
  }
  // Last: where a named value is also a known kind of key, the kind is what the mark says (merged keeps the first of equals).
  findings.push(...namedSecrets(text));
  return merged(findings);
}

/** The text with every finding replaced by a mark naming its kind: `[redacted: github-token]`. */
export function redact(text: string, findings: readonly SecretFinding[]): string {
  let out = '';
  let at = 0;
  for (const finding of findings) {
    out += `${text.slice(at, finding.start)}[redacted: ${finding.kind}]`;
    at = finding.end;
  }
  return out + text.slice(at);
}
