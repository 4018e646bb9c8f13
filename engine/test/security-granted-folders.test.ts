import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { GraphDocument } from '../graph/document.js';
import { cleanupTemp, openEngine, readDoc, tempProject } from './helpers.js';
import { closeServed, serveProject } from './served.js';

const outsides: string[] = [];

afterEach(closeServed);
afterAll(() => {
  cleanupTemp();
  for (const d of outsides) rmSync(d, { recursive: true, force: true });
});

const GRAPH = 'resources/examples/quickstart.forge.json';

function outsideDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'forge-granted-'));
  outsides.push(d);
  return d;
}

/** The quickstart with its sink writing outside the project: refused until trusted or granted. */
function strangerDoc(project: string, outside: string): GraphDocument {
  const doc = readDoc(project);
  const writer = doc.nodes.find((n) => n.id === 'write_train');
  if (writer) writer.params.path = join(outside, 'train.jsonl');
  return doc;
}

async function waitForRun(get: (p: string) => Promise<Response>, runId: string): Promise<{ status: string; environment: { grantedFolders?: string[] } | null }> {
  for (;;) {
    const run = (await (await get(`/api/runs/${runId}`)).json()) as { status: string; environment: { grantedFolders?: string[] } | null };
    if (run.status !== 'running') return run;
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('the Granted folders app setting', () => {
  it('starts empty, and refuses a relative, missing or non-folder path naming the field', async () => {
    const { get, send } = await serveProject();
    expect(await (await get('/api/settings')).json()).toEqual({ grantedFolders: [], sessionGranted: [] });
    const relative = await send('/api/settings', { grantedFolders: ['data'] }, 'PUT');
    expect(relative.status).toBe(400);
    expect(await relative.json()).toMatchObject({ field: 'grantedFolders.0', error: expect.stringContaining('absolute') });
    const missing = await send('/api/settings', { grantedFolders: [outsideDir(), '/no/such/folder'] }, 'PUT');
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ field: 'grantedFolders.1', error: expect.stringContaining('/no/such/folder does not exist') });
    const file = join(outsideDir(), 'f.txt');
    writeFileSync(file, 'x');
    expect(await (await send('/api/settings', { grantedFolders: [file] }, 'PUT')).json()).toMatchObject({ field: 'grantedFolders.0', error: expect.stringContaining('is not a folder') });
    expect((await send('/api/settings', { grantedFolders: ['/'] }, 'PUT')).status).toBe(400);
    expect((await send('/api/settings', { folders: [] }, 'PUT')).status).toBe(400);
    expect(await (await get('/api/settings')).json()).toEqual({ grantedFolders: [], sessionGranted: [] });
  });

  it('granting a folder makes a previously refused graph runnable without trust; provenance records the grant; removing it refuses again', async () => {
    const { project, get, send } = await serveProject();
    const outside = outsideDir();
    const doc = strangerDoc(project, outside);
    expect((await send('/api/runs', { doc, path: GRAPH })).status).toBe(403);

    const put = await send('/api/settings', { grantedFolders: [outside] }, 'PUT');
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ grantedFolders: [outside], sessionGranted: [] });
    expect(((await (await send('/api/trust/check', { doc, path: GRAPH })).json()) as { trusted: boolean }).trusted).toBe(true);
    const started = await send('/api/runs', { doc, path: GRAPH });
    expect(started.status).toBe(202);
    const run = await waitForRun(get, ((await started.json()) as { runId: string }).runId);
    expect(run.status).toBe('succeeded');
    expect(run.environment?.grantedFolders).toEqual([realpathSync(outside)]);
    expect(existsSync(join(outside, 'train.jsonl'))).toBe(true);

    // Persisted in the workspace: another engine on it (the CLI) sees the same grant.
    expect(JSON.parse(readFileSync(join(project, '.forge/settings.json'), 'utf8'))).toEqual({ grantedFolders: [outside] });
    const cli = openEngine(project);
    expect(cli.allGranted()).toEqual([outside]);
    cli.close();

    expect((await send('/api/settings', { grantedFolders: [] }, 'PUT')).status).toBe(200);
    const edited = strangerDoc(project, outside);
    (edited.nodes.find((n) => n.id === 'write_train') as { params: Record<string, unknown> }).params.path = join(outside, 'again.jsonl');
    expect((await send('/api/runs', { doc: edited, path: GRAPH })).status).toBe(403);
  });

  it('a damaged settings file grants nothing', async () => {
    const project = tempProject();
    mkdirSync(join(project, '.forge'), { recursive: true });
    writeFileSync(join(project, '.forge/settings.json'), '{"grantedFolders": "/"}');
    const { get } = await serveProject(project);
    expect(await (await get('/api/settings')).json()).toEqual({ grantedFolders: [], sessionGranted: [] });
  });
});
