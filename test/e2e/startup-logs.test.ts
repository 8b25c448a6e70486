import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_OUT_DIR } from '../../scripts/build-static-model.js';
import { callOk } from '../helpers/calls.js';
import { spawnServer } from '../helpers/spawn-server.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));
function tempDir(): string {
  const { dir, cleanup } = makeTempDir('pinak-startup-');
  cleanups.push(cleanup);
  return dir;
}

describe('what a start logs about the embedding model', () => {
  it('says nothing about re-embedding on a brand-new data directory', async () => {
    const server = await spawnServer(tempDir());
    await callOk(server.client, 'memory_stats');
    await server.close();
    expect(server.stderr()).toContain('database open');
    expect(server.stderr()).not.toMatch(/re-embed/);
  });

  it('announces re-embedding, with the count, when a store with records meets a new model', async () => {
    const dir = tempDir();
    const first = await spawnServer(dir);
    await callOk(first.client, 'remember', { memories: [{ content: 'the boiler was serviced in March' }, { content: 'the roof needs new tiles' }] });
    await first.close();

    // The same vectors under another model id (a model directory, loaded through transformers.js).
    const second = await spawnServer(dir, ['--embed-model', DEFAULT_OUT_DIR]);
    await expect.poll(async () => (await callOk(second.client, 'memory_stats')).embedding.embedded, { timeout: 10_000 }).toBe(2);
    await second.close();
    const announced = second.stderr().split('\n').find((line) => line.includes('records will be re-embedded'));
    expect(JSON.parse(announced ?? '{}')).toMatchObject({ model: 'local/static-glove-50k', records: 2 });
  });
});
