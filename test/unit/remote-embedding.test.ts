import { describe, expect, it } from 'vitest';
import { BadEmbeddingResponse, errorDetail, OLLAMA, OPENAI, TEI } from '../../src/embeddings/remote-formats.js';
import { backoffMs, decideRetry, isTransient, parseRetryAfter, type RetryPolicy } from '../../src/embeddings/remote-retry.js';
import { failureBackoffMs } from '../../src/memory/reembed.js';

const POLICY: RetryPolicy = { attempts: 3, baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 5000 };
const NOW = Date.parse('2026-12-07T00:00:00Z');

describe('the retry policy for embedding services', () => {
  it('retries network errors, timeouts, 408, 429 and 5xx, and nothing else', () => {
    for (const status of [408, 429, 500, 502, 503, 504, 599]) expect(isTransient({ kind: 'status', status }), String(status)).toBe(true);
    for (const status of [400, 401, 403, 404, 413, 422, 424, 501, 505]) expect(isTransient({ kind: 'status', status }), String(status)).toBe(false);
    expect(isTransient({ kind: 'network' })).toBe(true);
    expect(isTransient({ kind: 'timeout' })).toBe(true);
    expect(isTransient({ kind: 'bad-response' })).toBe(false);
    expect(decideRetry({ kind: 'status', status: 401 }, 1, POLICY)).toEqual({ retry: false, transient: false });
    expect(decideRetry({ kind: 'bad-response' }, 1, POLICY)).toEqual({ retry: false, transient: false });
  });

  it('backs off exponentially with jitter, capped, and stops after the last attempt', () => {
    // Equal jitter: between half and all of base × 2^(n-1), capped.
    expect(backoffMs(1, POLICY, () => 0)).toBe(50);
    expect(backoffMs(1, POLICY, () => 1)).toBe(100);
    expect(backoffMs(2, POLICY, () => 0)).toBe(100);
    expect(backoffMs(3, POLICY, () => 0.5)).toBe(300);
    expect(backoffMs(10, POLICY, () => 1)).toBe(1000);
    expect(backoffMs(10, POLICY, () => 0)).toBe(500);
    const delays = new Set(Array.from({ length: 50 }, () => backoffMs(2, POLICY)));
    expect(delays.size).toBeGreaterThan(5);
    for (const delay of delays) expect(delay >= 100 && delay <= 200).toBe(true);
    expect(decideRetry({ kind: 'network' }, 1, POLICY, () => 0)).toEqual({ retry: true, delayMs: 50 });
    expect(decideRetry({ kind: 'timeout' }, 2, POLICY, () => 0)).toEqual({ retry: true, delayMs: 100 });
    expect(decideRetry({ kind: 'network' }, 3, POLICY)).toEqual({ retry: false, transient: true });
  });

  it('honours Retry-After in seconds or as a date, and gives up at once on one too long to wait', () => {
    expect(parseRetryAfter('2', NOW)).toBe(2000);
    expect(parseRetryAfter(' 0 ', NOW)).toBe(0);
    expect(parseRetryAfter('Mon, 07 Dec 2026 00:00:03 GMT', NOW)).toBe(3000);
    expect(parseRetryAfter('Sun, 06 Dec 2026 23:00:00 GMT', NOW)).toBe(0);
    expect(parseRetryAfter(null, NOW)).toBeNull();
    expect(parseRetryAfter('soon', NOW)).toBeNull();
    expect(parseRetryAfter('-5', NOW)).toBeNull();
    expect(decideRetry({ kind: 'status', status: 429, retryAfter: '2' }, 1, POLICY, () => 0, NOW)).toEqual({ retry: true, delayMs: 2000 });
    expect(decideRetry({ kind: 'status', status: 503, retryAfter: 'Mon, 07 Dec 2026 00:00:01 GMT' }, 1, POLICY, () => 0, NOW)).toEqual({ retry: true, delayMs: 1000 });
    // Longer than a call may wait: the call ends, saying how long the service asked to be left alone.
    expect(decideRetry({ kind: 'status', status: 429, retryAfter: '60' }, 1, POLICY, () => 0, NOW)).toEqual({ retry: false, transient: true, waitMs: 60_000 });
    expect(decideRetry({ kind: 'status', status: 429, retryAfter: '1' }, 3, POLICY, () => 0, NOW)).toEqual({ retry: false, transient: true, waitMs: 1000 });
    // Unreadable: the backoff.
    expect(decideRetry({ kind: 'status', status: 429, retryAfter: 'later' }, 1, POLICY, () => 0, NOW)).toEqual({ retry: true, delayMs: 50 });
  });

  it('re-embedding backs off 1 s, 2 s, 4 s… up to a minute after failed batches, or until the service may be asked again', () => {
    expect(failureBackoffMs(1, new Error('x'), () => 0)).toBe(500);
    expect(failureBackoffMs(2, new Error('x'), () => 1)).toBe(2000);
    expect(failureBackoffMs(20, new Error('x'), () => 1)).toBe(60_000);
    expect(failureBackoffMs(1, Object.assign(new Error('x'), { retryAt: NOW + 9000 }), () => 0, NOW)).toBe(9000);
    expect(failureBackoffMs(1, null, () => 0)).toBe(500);
  });
});

describe('reading the services\' answers', () => {
  const bad = (parse: () => unknown): string => {
    try {
      parse();
    } catch (error) {
      expect(error).toBeInstanceOf(BadEmbeddingResponse);
      return (error as Error).message;
    }
    throw new Error('parsed without an error');
  };

  it('OpenAI: places entries by index, and refuses missing, duplicate or out-of-range indexes, base64, counts and dimensions that differ', () => {
    const json = { data: [{ index: 1, embedding: [0, 1] }, { index: 0, embedding: [1, 0] }], model: 'm', usage: {} };
    expect(OPENAI.parse(json, 2)).toEqual([[1, 0], [0, 1]]);
    expect(OPENAI.parse({ data: [{ embedding: [1, 2] }] }, 1)).toEqual([[1, 2]]);
    expect(bad(() => OPENAI.parse({ error: { message: 'x' } }, 1))).toMatch(/no data list/);
    expect(bad(() => OPENAI.parse(json, 3))).toMatch(/2 embedding\(s\) for 3 text\(s\)/);
    expect(bad(() => OPENAI.parse({ data: [{ index: 0, embedding: [1] }, { index: 0, embedding: [1] }] }, 2))).toMatch(/two entries have index 0/);
    expect(bad(() => OPENAI.parse({ data: [{ index: 5, embedding: [1] }] }, 1))).toMatch(/index 5/);
    expect(bad(() => OPENAI.parse({ data: [{ index: 0, embedding: 'AAAA' }] }, 1))).toMatch(/base64/);
    expect(bad(() => OPENAI.parse({ data: [{ index: 0, embedding: [1, 2] }, { index: 1, embedding: [1] }] }, 2))).toMatch(/1 dimensions/);
    expect(bad(() => OPENAI.parse({ data: [{ index: 0, embedding: [1, null] }] }, 1))).toMatch(/null/);
    expect(bad(() => OPENAI.parse({ data: [{ index: 0, embedding: [] }] }, 1))).toMatch(/empty/);
    expect(bad(() => OPENAI.parse({ data: ['x'] }, 1))).toMatch(/not an object/);
  });

  it('Ollama and TEI: one vector per text, numbers only, finite, of one length', () => {
    expect(OLLAMA.parse({ model: 'm', embeddings: [[0.5, 0.5]] }, 1)).toEqual([[0.5, 0.5]]);
    expect(bad(() => OLLAMA.parse({ embedding: [1] }, 1))).toMatch(/no embeddings list/);
    expect(bad(() => OLLAMA.parse({ embeddings: [[1], [2]] }, 1))).toMatch(/2 vector\(s\) for 1 text/);
    expect(bad(() => OLLAMA.parse({ embeddings: [['1']] }, 1))).toMatch(/string, not a number/);
    expect(TEI.parse([[1, 2], [3, 4]], 2)).toEqual([[1, 2], [3, 4]]);
    expect(bad(() => TEI.parse({ error: 'Batch size error', error_type: 'validation' }, 1))).toMatch(/not a list/);
    expect(bad(() => TEI.parse([[1, 2], [3]], 2))).toMatch(/1 dimensions/);
    expect(bad(() => TEI.parse([1, 2], 2))).toMatch(/not an array/);
    // JSON has no NaN or Infinity, but a parsed 1e400 is Infinity.
    expect(bad(() => TEI.parse(JSON.parse('[[1e400, 0]]'), 1))).toMatch(/non-finite/);
  });

  it('builds each request where the API expects it', () => {
    expect(OPENAI.url('http://h:1')).toBe('http://h:1/v1/embeddings');
    expect(OPENAI.url('https://api.openai.com/v1/')).toBe('https://api.openai.com/v1/embeddings');
    expect(OPENAI.url('http://h/proxy/')).toBe('http://h/proxy/v1/embeddings');
    expect(OLLAMA.url('http://h:11434/')).toBe('http://h:11434/api/embed');
    expect(TEI.url('http://h:8080')).toBe('http://h:8080/embed');
    expect(OPENAI.body(['a'], 'm', 256)).toEqual({ model: 'm', input: ['a'], encoding_format: 'float', dimensions: 256 });
    expect(OPENAI.body(['a'], 'm', null)).toEqual({ model: 'm', input: ['a'], encoding_format: 'float' });
    expect(OLLAMA.body(['a', 'b'], 'nomic-embed-text', null)).toEqual({ model: 'nomic-embed-text', input: ['a', 'b'] });
    expect(TEI.body(['a'], null, null)).toEqual({ inputs: ['a'], normalize: true, truncate: true });
  });

  it('says what an error answer says, in one short line', () => {
    expect(errorDetail('{"error":{"message":"Incorrect API key provided","type":"invalid_request_error"}}')).toBe('Incorrect API key provided');
    expect(errorDetail('{"error":"model \\"x\\" not found, try pulling it first"}')).toBe('model "x" not found, try pulling it first');
    expect(errorDetail('<html>\n<body>Bad Gateway</body>\n</html>')).toBe('<html> <body>Bad Gateway</body> </html>');
    expect(errorDetail('x'.repeat(500))).toHaveLength(201);
  });
});
