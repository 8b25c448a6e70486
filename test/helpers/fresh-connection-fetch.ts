import { request } from 'node:http';
import { Readable } from 'node:stream';

/**
 * A fetch that opens a new connection for every request (no keep-alive),
 * so that the workers of one server, which take connections in turn, each
 * get some of a client's requests; it records which worker answered each
 * (the x-pinak-worker header). Enough of fetch for the SDK's transports and
 * the memory browser's client: method, headers, a string body, a streamed
 * answer, an abort signal.
 */
export function freshConnectionFetch(): { fetch: typeof fetch; workers: string[] } {
  const workers: string[] = [];
  const fresh = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> =>
    new Promise((resolve, reject) => {
      const url = new URL(input instanceof Request ? input.url : input);
      const headers: Record<string, string> = {};
      new Headers(init.headers).forEach((value, name) => (headers[name] = value));
      const req = request({ host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method: init.method ?? 'GET', headers, agent: false, signal: init.signal ?? undefined }, (res) => {
        const worker = res.headers['x-pinak-worker'];
        if (typeof worker === 'string') workers.push(worker);
        const answer = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          if (Array.isArray(value)) for (const item of value) answer.append(name, item);
          else if (value !== undefined) answer.set(name, value);
        }
        const status = res.statusCode ?? 0;
        const body = status === 204 || status === 304 ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
        resolve(new Response(body, { status, headers: answer }));
      });
      req.on('error', reject);
      if (typeof init.body === 'string') req.write(init.body);
      else if (init.body !== undefined && init.body !== null) return reject(new Error('freshConnectionFetch sends string bodies only'));
      req.end();
    });
  return { fetch: fresh as typeof fetch, workers };
}
