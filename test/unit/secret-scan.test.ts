import { describe, expect, it } from 'vitest';
import { seeded } from '../../scripts/bench/data.js';
import { Fake } from '../../scripts/eval/firewall-corpus.js';
import { luhnValid, mayHoldToken, redact, scanSecrets } from '../../src/firewall/secret-scan.js';
import { SecretGuard } from '../../src/firewall/secret-guard.js';

const kinds = async (text: string) => (await scanSecrets(text)).map((f) => f.kind);
const redacted = async (text: string) => redact(text, await scanSecrets(text));

describe('secret scan', () => {
  const fake = new Fake(seeded(3));

  it('finds each kind where it is, and redaction keeps the words around it', async () => {
    const github = fake.github();
    expect(await redacted(`push with ${github}, then tag`)).toBe('push with [redacted: github-token], then tag');
    const aws = fake.awsAccessKey();
    const secret = fake.awsSecretKey();
    expect(await kinds(`id ${aws}\naws_secret_access_key = ${secret}`)).toEqual(['aws-access-key', 'aws-secret-key']);
    expect(await redacted('clone https://deploy:p%40ss-w0rd!@git.example.com/app.git now')).toBe('clone https://deploy:[redacted: url-password]@git.example.com/app.git now');
    expect(await kinds(`DATABASE_URL=postgres://app:${fake.password()}@db:5432/app`)).toEqual(['database-password']);
    expect(await kinds(`-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEI${fake.chars('ABCDEFabcdef0123456789+/', 120)}\n-----END EC PRIVATE KEY-----`)).toEqual(['private-key']);
    expect(await kinds(`the card is ${fake.card()} thanks`)).toEqual(['card-number']);
  });

  it('a value named as a secret is one, unless it is a placeholder, a word or an expression', async () => {
    expect(await redacted('wifi password: Maple42!xyz')).toBe('wifi password: [redacted: password]');
    expect(await redacted('"client_secret": "a8Fk29dLqP"')).toBe('"client_secret": "[redacted: password]"');
    for (const benign of ['password: ********', 'api_key=<YOUR_KEY>', 'password = getpass()', 'const key = process.env.API_KEY', 'secret: changeme', 'the password is wrong', 'token: ${TOKEN}']) {
      expect(await kinds(benign), benign).toEqual([]);
    }
  });

  it('card numbers need a network range, the Luhn check and 13 to 19 digits', async () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(await kinds('4111 1111 1111 1111')).toEqual(['card-number']);
    expect(await kinds('4111-1111-1111-1111')).toEqual(['card-number']);
    // Luhn-valid but no card network (a millisecond timestamp), too short, all one digit, part of a decimal.
    expect(await kinds('at 1733550000006 ms')).toEqual([]);
    expect(await kinds('4111 1111 1')).toEqual([]);
    expect(await kinds('0000000000000000')).toEqual([]);
    expect(await kinds('pi is 3.4111111111111111')).toEqual([]);
  });

  it('leaves hashes, ids and prose about keys alone', async () => {
    for (const benign of [
      `sha256 ${fake.chars('0123456789abcdef', 64)}`,
      `commit ${fake.chars('0123456789abcdef', 40)}`,
      'ticket 3f2b8c1e-9d4a-4e7b-a1c2-5d6e7f8a9b0c closed',
      'Rotate the AWS access keys every 90 days; GitHub tokens start with ghp_.',
      'ssh://git@github.com:org/repo.git and postgres://localhost:5432/app',
      'Internationalization of the HorizontalPodAutoscaler docs',
    ]) {
      expect(await kinds(benign), benign).toEqual([]);
    }
  });

  it('only text that may hold a token goes to secretlint', () => {
    expect(mayHoldToken('We met on Friday and talked about the garden.')).toBe(false);
    expect(mayHoldToken('internationalization')).toBe(false);
    expect(mayHoldToken(fake.github())).toBe(true);
    expect(mayHoldToken('hf_abcdefghijklmnopqrstuvwxyzABCDEFGH')).toBe(true);
    expect(mayHoldToken('https://a:b@c.example')).toBe(true);
    expect(mayHoldToken('-----BEGIN PRIVATE KEY-----')).toBe(true);
  });
});

describe('secret guard', () => {
  const policy = { action: 'redact' as const, byNamespace: new Map([['vault', 'allow' as const], ['shared', 'refuse' as const]]) };

  it('redacts by default, and lists the fields with their kinds', async () => {
    const guard = new SecretGuard(policy, 'default');
    expect(await guard.text('content', 'pw is hunter2 and password: Tiger77#abc')).toBe('pw is hunter2 and password: [redacted: password]');
    expect(await guard.json('metadata', { password: 'Blue99?xyz', list: ['card 4111111111111111'], n: 3 })).toEqual({ password: '[redacted: password]', list: ['card [redacted: card-number]'], n: 3 });
    expect(guard.redacted).toEqual([
      { field: 'content', kinds: ['password'] },
      { field: 'metadata.password', kinds: ['password'] },
      { field: 'metadata.list[0]', kinds: ['card-number'] },
    ]);
  });

  it('refuses in a namespace that refuses, and passes everything in one that allows', async () => {
    await expect(new SecretGuard(policy, 'shared').text('title', 'password: Tiger77#abc')).rejects.toThrow(/title holds what looks like a secret \(password\); namespace "shared" refuses secrets/);
    const allow = new SecretGuard(policy, 'vault');
    expect(await allow.text('content', 'password: Tiger77#abc')).toBe('password: Tiger77#abc');
    expect(allow.redacted).toEqual([]);
  });
});
