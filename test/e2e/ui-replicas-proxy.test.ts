import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UI_REPLICA_COOKIE } from '../../scripts/lib/haproxy-config.js';
import { createKeyAsync, keyedClient } from '../helpers/auth-clients.js';
import { callOk } from '../helpers/calls.js';
import { startHaproxy, type Haproxy } from '../helpers/haproxy.js';
import { freshDatabase, type FreshDatabase } from '../helpers/postgres.js';
import { spawnHttp, type HttpServer } from '../helpers/spawn-http.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { UiClient } from '../helpers/ui-client.js';

/**
 * The memory browser behind the shipped proxy rules (deploy/haproxy.cfg):
 * two replicas on one PostgreSQL database, round robin for /mcp, while a
 * browser's /ui pages stay with the replica that holds its sign-in.
 */
let database: FreshDatabase;
let replicas: HttpServer[] = [];
let proxy: Haproxy;
const dirs = Array.from({ length: 3 }, () => makeTempDir('pinak-ui-proxy-'));

beforeAll(async () => {
  database = await freshDatabase();
  // Behind the proxy a request's Host is the proxy's address, which each server must accept.
  const args = ['--database-url', database.url, '--embed-model', 'none', '--auth', 'keys', '--allowed-hosts', '127.0.0.1'];
  replicas = await Promise.all([0, 1].map((i) => spawnHttp(dirs[i]!.dir, [...args, '--replica-name', `pinak${i + 1}`])));
  proxy = await startHaproxy(replicas.map((replica, i) => ({ name: `pinak${i + 1}`, port: replica.port })));
});

afterAll(async () => {
  await proxy?.stop();
  await Promise.all(replicas.map((replica) => replica.stop()));
  await database?.drop();
  for (const dir of dirs) dir.cleanup();
});

/**
 * A key in the database. The proxy and the replicas outlive each test, and so
 * do this process's keep-alive connections to the proxy: the CLI runs without
 * blocking so that none of them is reused after the proxy closed it meanwhile.
 */
const keyFor = async (role: string): Promise<string> => (await createKeyAsync(dirs[2]!.dir, ['--tenant', 'acme', '--role', role, '--database-url', database.url])).key;

describe('the memory browser behind haproxy with the shipped rules', () => {
  it('a browser signed in through the proxy stays signed in page after page, and finds what an MCP client stored through it', async () => {
    const key = await keyFor('admin');
    const { client } = await keyedClient(proxy.url, key);
    const id = (await callOk(client, 'remember', { content: 'The proxy keeps browsers with their replica', tags: ['proxy'] })).stored[0].id as string;

    const browser = new UiClient(proxy.url);
    await browser.signIn(key);
    expect(browser.otherCookies.get(UI_REPLICA_COOKIE)).toMatch(/^pinak[12]$/);
    for (let i = 0; i < 8; i += 1) {
      const page = await browser.get(`/ui/?q=${encodeURIComponent('proxy replica')}`);
      expect(page.status, `page ${i}`).toBe(200);
      expect(page.text).toContain(id);
    }
    await client.close();
  });

  it('without the proxy\'s cookie a browser lands on the other replica every other page, which does not know its sign-in (the rule is what keeps it)', async () => {
    const browser = new UiClient(proxy.url);
    await browser.signIn(await keyFor('reader'));
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      browser.otherCookies.clear();
      statuses.push((await browser.get('/ui/')).status);
    }
    expect(statuses).toContain(200);
    expect(statuses.filter((status) => status !== 200).length).toBeGreaterThan(0);
  });
});
