import { describe, expect, it } from 'vitest';
import { createKey, createKeyAsync, keyedClient } from '../helpers/auth-clients.js';
import { callOk } from '../helpers/calls.js';
import { auditOf, auditOfAsync, useHttpHarness } from '../helpers/http-harness.js';
import { freshDatabase } from '../helpers/postgres.js';
import { runCli, runCliAsync, spawnRaw } from '../helpers/spawn-server.js';
import { UiClient } from '../helpers/ui-client.js';

const { tempDataDir, start, connect, defer } = useHttpHarness('pinak-ui-', { args: ['--embed-model', 'none'] });

const CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** A server requiring keys, with an admin, a reader, a reader limited to namespace beta, and memories in two namespaces. */
async function keyedServer() {
  const dir = tempDataDir();
  const admin = createKey(dir, ['--tenant', 'local', '--role', 'admin', '--name', 'ui admin']);
  const reader = createKey(dir, ['--tenant', 'local', '--role', 'reader']);
  const betaReader = createKey(dir, ['--tenant', 'local', '--role', 'reader', '--namespaces', 'beta']);
  const server = await start(dir);
  const { client } = await connect(keyedClient(server.origin, admin.key));
  const stored = await callOk(client, 'remember', { memories: [
    { content: 'the office wifi password is on the fridge', namespace: 'alpha', tags: ['office'] },
    { content: 'beta team standup is at nine', namespace: 'beta' },
  ] });
  const [alphaId, betaId] = (stored.stored as Array<{ id: string }>).map((m) => m.id);
  return { dir, server, admin, reader, betaReader, alphaId: alphaId!, betaId: betaId! };
}

describe('memory browser over HTTP', () => {
  it('every answer carries the strict headers; the session cookie is HttpOnly, SameSite=Strict, Path=/ui, and Secure behind TLS', async () => {
    const { server, admin } = await keyedServer();
    const ui = new UiClient(server.origin);
    const login = await ui.get('/ui/login');
    expect(login.status).toBe(200);
    const cookie = login.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^pinak_ui=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/ui$/);
    for (const response of [login, await ui.get('/ui/ui.css'), await ui.get('/ui/'), await ui.get('/ui/nowhere')]) {
      expect(response.headers.get('content-security-policy')).toBe(CSP);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
    }
    const behindTls = await new UiClient(server.origin).get('/ui/login', { 'x-forwarded-proto': 'https' });
    expect(behindTls.headers.get('set-cookie')).toMatch(/; Secure$/);
    // Signed out, pages send to the sign-in page; a wrong key is refused (and audited), a right one signs in.
    expect((await ui.get('/ui/audit')).headers.get('location')).toBe('/ui/login');
    const form = await ui.get('/ui/login');
    const wrong = await ui.post('/ui/login', { csrf: UiClient.csrf(form.text), key: 'pk_not-a-key' });
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('the API key is not valid');
    await ui.signIn(admin.key);
    const page = await ui.get('/ui/');
    expect(page.status).toBe(200);
    expect(page.text).toContain(`key ${admin.id} · admin`);
    expect(page.text).not.toContain(admin.key);
    expect(page.text).not.toMatch(/<script|style="/);
  });

  it('forms need the session\'s CSRF token and this server\'s Origin: without them, with another session\'s token, or from another origin, 403 and nothing changes', async () => {
    const { server, admin, alphaId } = await keyedServer();
    const mine = new UiClient(server.origin);
    const token = await mine.signIn(admin.key);
    const other = new UiClient(server.origin);
    const otherToken = await other.signIn(admin.key);
    expect(otherToken).not.toBe(token);
    const forget = `/ui/memory/${alphaId}/forget`;
    const refusals = [
      await mine.post(forget, {}),
      await mine.post(forget, { csrf: '' }),
      await mine.post(forget, { csrf: otherToken }),
      await mine.post(forget, { csrf: token }, { origin: server.origin.replace('127.0.0.1', 'localhost') }),
      await mine.post(forget, { csrf: token }, { origin: 'null' }),
      await mine.post(forget, { csrf: token }, { 'sec-fetch-site': 'cross-site' }),
      await mine.post(forget, { csrf: token }, { 'sec-fetch-site': 'same-site' }),
      await mine.post(forget, { csrf: otherToken }, { origin: 'null', 'sec-fetch-site': 'same-origin' }),
    ];
    const noOrigin = await fetch(new URL(forget, server.origin), { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `pinak_ui=${mine.cookie}` }, body: `csrf=${token}` });
    expect(noOrigin.status).toBe(403);
    for (const refused of refusals) {
      expect(refused.status).toBe(403);
      expect(refused.text).toMatch(/security token|Origin/);
      expect(refused.text).not.toMatch(/at \w+ \(|node:internal/);
    }
    // A site not on the allowlist is stopped before the browser's routes (DNS-rebinding guard).
    expect((await mine.post(forget, { csrf: token }, { origin: 'http://evil.example' })).status).toBe(403);
    const page = await mine.get(`/ui/memory/${alphaId}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('the office wifi password is on the fridge');
    // Signing out needs the token too; afterwards the old cookie is worth nothing.
    expect((await mine.post('/ui/logout', { csrf: otherToken })).status).toBe(403);
    const cookie = mine.cookie;
    expect((await mine.post('/ui/logout', { csrf: token })).status).toBe(303);
    mine.cookie = cookie;
    expect((await mine.get('/ui/')).headers.get('location')).toBe('/ui/login');
  });

  it('a reader sees no admin forms and cannot change anything: crafted posts get 403; a namespace-limited reader sees its namespace only', async () => {
    const { dir, server, reader, betaReader, alphaId, betaId } = await keyedServer();
    const ui = new UiClient(server.origin);
    const token = await ui.signIn(reader.key);
    const page = await ui.get(`/ui/memory/${alphaId}`);
    expect(page.status).toBe(200);
    expect(page.text).not.toMatch(/\/forget"|\/supersede"|Forget this memory/);
    expect(page.text).not.toContain('Access log');
    expect((await ui.get('/ui/')).text).not.toContain('href="/ui/audit"');
    expect((await ui.post(`/ui/memory/${alphaId}/forget`, { csrf: token })).status).toBe(403);
    expect((await ui.post(`/ui/memory/${alphaId}/supersede`, { csrf: token, content: 'changed' })).status).toBe(403);
    expect((await ui.get('/ui/audit')).status).toBe(403);
    expect((await ui.get(`/ui/memory/${alphaId}`)).text).toContain('the office wifi password is on the fridge');

    const beta = new UiClient(server.origin);
    await beta.signIn(betaReader.key);
    expect((await beta.get(`/ui/memory/${alphaId}`)).status).toBe(404);
    expect((await beta.get(`/ui/memory/${betaId}`)).status).toBe(200);
    const searched = await beta.get('/ui/?q=wifi+standup&namespace=alpha');
    expect(searched.status).toBe(400);
    expect(searched.text).toContain('may not use namespace');
    const own = await beta.get('/ui/?q=wifi+standup');
    expect(own.text).toContain('beta team standup is at nine');
    expect(own.text).not.toContain('wifi password');
    // Every page's reads went through the tools: audited with the reader keys and the browser's client name.
    const rows = auditOf(dir).filter((row) => row.client_name === 'pinak-memory-ui');
    expect(rows.some((row) => row.principal_id === reader.id && row.tool === 'get_memory')).toBe(true);
    expect(rows.some((row) => row.principal_id === betaReader.id && row.tool === 'search_memory' && row.error_code === 'forbidden')).toBe(true);
  });

  it('a key of another tenant browses that tenant only: its search, memory pages and audit trail never show the local tenant\'s records', async () => {
    const { dir, server, admin, alphaId } = await keyedServer();
    const acme = await createKeyAsync(dir, ['--tenant', 'acme', '--role', 'admin']);
    const { client } = await connect(keyedClient(server.origin, acme.key));
    await callOk(client, 'remember', { content: 'acme keeps its wifi password in the vault' });
    const ui = new UiClient(server.origin);
    await ui.signIn(acme.key);
    const found = await ui.get('/ui/?q=wifi+password&namespace=*');
    expect(found.text).toContain('acme keeps its wifi password in the vault');
    expect(found.text).not.toContain('on the fridge');
    expect((await ui.get(`/ui/memory/${alphaId}`)).status).toBe(404);
    const audit = await ui.get('/ui/audit');
    expect(audit.text).toContain(acme.id);
    // The local tenant's trail (its admin stored the memories) is not this tenant's.
    expect(audit.text).not.toContain(admin.id);
    expect(auditOf(dir, 'acme').some((row) => row.tool === 'ui read_audit' && row.principal_id === acme.id)).toBe(true);
  });

  it('a hit from a web page says low trust and why; one from the user does not', async () => {
    const { server, admin } = await keyedServer();
    const { client } = await connect(keyedClient(server.origin, admin.key));
    await callOk(client, 'remember', { memories: [
      { content: 'kestrels nest on the north tower', origin: 'web', origin_ref: 'https://birds.example.com/kestrels', namespace: 'alpha' },
      { content: 'the user saw kestrels at dawn', origin: 'user', namespace: 'alpha' },
    ] });
    const ui = new UiClient(server.origin);
    await ui.signIn(admin.key);
    const found = await ui.get('/ui/?q=kestrels&namespace=alpha');
    const hits = found.text.split('<article class="hit">').slice(1);
    const hitOf = (words: string) => hits.find((hit) => hit.includes(words)) ?? '';
    expect(hitOf('north tower')).toContain('low trust: a web page');
    expect(hitOf('at dawn')).not.toContain('trust');
  });

  it('an admin corrects and forgets a memory from its page; both are audited with the admin\'s key; a revoked key is signed out on its next page', async () => {
    const { dir, server, admin, alphaId } = await keyedServer();
    const ui = new UiClient(server.origin);
    const token = await ui.signIn(admin.key);
    const corrected = await ui.post(`/ui/memory/${alphaId}/supersede`, { csrf: token, content: 'the wifi password is in the drawer now' });
    expect(corrected.status).toBe(303);
    const newPage = await ui.get(corrected.headers.get('location')!);
    expect(newPage.text).toContain('The correction was stored');
    expect(newPage.text).toContain(`href="/ui/memory/${alphaId}"`);
    const newId = /Memory <code>([^<]+)<\/code>/.exec(newPage.text)![1]!;
    // As Chromium sends a form under Referrer-Policy: no-referrer: an opaque Origin, and Sec-Fetch-Site.
    const forgot = await ui.post(`/ui/memory/${newId}/forget`, { csrf: token, reason: 'wrong' }, { origin: 'null', 'sec-fetch-site': 'same-origin' });
    expect([forgot.status, forgot.headers.get('location')]).toEqual([303, '/ui/?done=forgotten']);
    expect((await ui.get(`/ui/memory/${newId}`)).status).toBe(404);
    const old = await ui.get(`/ui/memory/${alphaId}`);
    expect(old.text).toContain('Access log');
    const rows = await auditOfAsync(dir);
    const forget = rows.find((row) => row.tool === 'forget')!;
    expect(forget).toMatchObject({ principal_id: admin.id, status: 'ok', client_name: 'pinak-memory-ui', ids_touched: [newId] });
    expect(rows.find((row) => row.tool === 'remember' && row.ids_touched[0] === newId)).toMatchObject({ principal_id: admin.id, status: 'ok' });
    expect(rows.some((row) => row.tool === 'ui read_audit' && row.principal_id === admin.id)).toBe(true);
    const audit = await ui.get('/ui/audit?tool=forget');
    expect(audit.text).toContain(admin.id);
    expect(audit.text.match(/<tr><td>\d+/g)).toHaveLength(1);

    expect((await runCliAsync(['--data-dir', dir, 'keys', 'revoke', admin.id])).status).toBe(0);
    const after = await ui.get('/ui/');
    expect(after.status).toBe(401);
    expect(after.text).toContain('Signed out: the API key was revoked');
  });

  it('on PostgreSQL too: the keys, the records and the audit trail the pages read are the database\'s', async () => {
    const database = await freshDatabase();
    defer(() => database.drop());
    const dir = tempDataDir();
    const onDatabase = ['--database-url', database.url];
    const admin = createKey(dir, ['--tenant', 'local', '--role', 'admin', ...onDatabase]);
    const server = await start(dir, [...onDatabase, '--auth', 'keys']);
    const { client } = await connect(keyedClient(server.origin, admin.key));
    const stored = await callOk(client, 'remember', { content: 'postgres keeps the <b>browser</b> data', layer: 'procedural' });
    const id = (stored.stored as Array<{ id: string }>)[0]!.id;
    const ui = new UiClient(server.origin);
    const token = await ui.signIn(admin.key);
    expect((await ui.get('/ui/?q=browser')).text).toContain('postgres keeps the &lt;b&gt;browser&lt;/b&gt; data');
    const page = await ui.get(`/ui/memory/${id}`);
    expect(page.text).toContain('Access log');
    expect(page.text).toMatch(/<td><bdi>remember<\/bdi><\/td><td><bdi>[0-9A-Z]{26}<\/bdi>/);
    const charts = await ui.get('/ui/charts');
    expect(charts.text).toMatch(/last 30 days: 1\)/);
    expect(charts.text).toContain('class="procedural"');
    expect((await ui.post(`/ui/memory/${id}/forget`, { csrf: token })).status).toBe(303);
    const forgets = (await ui.get('/ui/audit?tool=forget')).text.match(/<tr><td>\d+/g);
    expect(forgets).toHaveLength(1);
  });

  it('bad input gets a clear page, never a stack: malformed ids and paths, bad filters, oversized forms, other methods', async () => {
    const { server, admin } = await keyedServer();
    const ui = new UiClient(server.origin);
    const token = await ui.signIn(admin.key);
    const cases: Array<[() => Promise<{ status: number; text: string }>, number, RegExp]> = [
      [() => ui.get('/ui/memory/%ZZ'), 400, /no valid id/],
      [() => ui.get('/ui/memory/..%2F..%2Fetc'), 404, /no record has that id/],
      [() => ui.get('/ui/goal/01ZZZZZZZZZZZZZZZZZZZZZZZZ'), 404, /goal 01Z+ not found/],
      [() => ui.get('/ui/nothing-here'), 404, /there is no page at/],
      [() => ui.get(`/ui/?q=${'x'.repeat(5000)}`), 414, /too long/],
      [() => ui.get('/ui/?since=yesterday&limit=999999&mode=drop+table&layer=<b>'), 200, /Search/],
      [() => ui.get('/ui/?goal_id=<script>'), 200, /value="&lt;script&gt;"/],
      [() => ui.post(`/ui/memory/01ZZZZZZZZZZZZZZZZZZZZZZZZ/supersede`, { csrf: token, content: 'x'.repeat(300_000) }), 413, /over/],
      [() => ui.post('/ui/memory/01ZZZZZZZZZZZZZZZZZZZZZZZZ/forget', { csrf: token }), 404, /no memory/],
      [() => ui.post('/ui/memory/01ZZZZZZZZZZZZZZZZZZZZZZZZ/supersede', { csrf: token, content: ' ' }), 400, /empty/],
      [() => fetch(new URL('/ui/', server.origin), { method: 'DELETE' }).then(async (r) => ({ status: r.status, text: await r.text() })), 405, /GET and POST/],
    ];
    for (const [answer, status, message] of cases) {
      const { status: got, text } = await answer();
      expect(got, text.slice(0, 500)).toBe(status);
      expect(text).toMatch(message);
      expect(text).not.toMatch(/at \w+ \(|node:internal|<script>/);
    }
  });

  it('without keys the browser signs in only by a one-time link (from the log, or printed by pinak-memory ui), never by just opening the page', async () => {
    const dir = tempDataDir();
    const server = await start(dir);
    const logged = (): string | undefined => /"url":"([^"]*\/ui\/login\?token=[^"]+)"/.exec(server.stderr())?.[1];
    for (let i = 0; i < 100 && !logged(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    const link = logged();
    expect(link).toBeDefined();
    const stranger = new UiClient(server.origin);
    expect((await stranger.get('/ui/')).headers.get('location')).toBe('/ui/login');
    const loginPage = await stranger.get('/ui/login');
    expect(loginPage.text).toContain('one-time link');
    expect(loginPage.text).not.toContain('name="key"');
    expect((await stranger.get('/ui/login?token=guess')).status).toBe(401);
    expect((await stranger.post('/ui/login', { key: 'anything' })).status).toBe(403);
    const ui = new UiClient(server.origin);
    const used = await ui.get(new URL(link!).pathname + new URL(link!).search);
    expect([used.status, used.headers.get('location')]).toEqual([303, '/ui/']);
    expect((await ui.get('/ui/')).text).toContain('local user · admin');
    // Once only.
    const again = await new UiClient(server.origin).get(new URL(link!).pathname + new URL(link!).search);
    expect(again.status).toBe(401);
    expect(again.text).toContain('used already or has expired');
  });

  it('pinak-memory ui listens on loopback only and prints the address to open', async () => {
    const refused = runCli(['--data-dir', tempDataDir(), 'ui', '--host', '0.0.0.0']);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/^pinak-memory: pinak-memory ui listens on loopback only/);
    expect(refused.stdout).toBe('');
    expect(runCli(['--data-dir', tempDataDir(), 'ui', '--transport', 'stdio']).status).toBe(1);
    // With keys, no link can sign in: the address printed is the sign-in page's.
    const dir = tempDataDir();
    createKey(dir, ['--tenant', 'local', '--role', 'reader']);
    const child = spawnRaw(['ui', '--data-dir', dir, '--embed-model', 'none']);
    defer(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    for (let i = 0; i < 300 && !out.includes('\n'); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(out).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/ui\/\n$/);
    const ui = new UiClient(new URL(out.trim()).origin);
    expect((await ui.get('/ui/')).headers.get('location')).toBe('/ui/login');
    expect((await ui.get('/ui/login')).text).toContain('name="key"');
  });
});
