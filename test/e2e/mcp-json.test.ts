import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { callOk } from '../helpers/calls.js';
import { launchFromMcpJson } from '../helpers/mcp-json.js';
import { ROOT } from '../helpers/project-copy.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const temp = makeTempDir('pinak-mcp-json-');
afterAll(() => temp.cleanup());

describe('mcp.json', () => {
  it('starts the server when the client launches it from a directory below the project root', async () => {
    const client = await launchFromMcpJson(join(ROOT, 'docs'), temp.dir);
    try {
      expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('remember');
      expect((await callOk(client, 'remember', { content: 'launched from mcp.json' })).count).toBe(1);
    } finally {
      await client.close();
    }
  });
});
