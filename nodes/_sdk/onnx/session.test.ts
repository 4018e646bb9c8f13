import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { OnnxGraph } from './graph.js';
import { autoPlan, createSession, findLibrary, machineProbe, VULKAN_LOADER, type ProviderProbe } from './session.js';

const probe = (platform: NodeJS.Platform, vulkan: boolean): ProviderProbe & { vulkanLoader: ReturnType<typeof vi.fn> } => ({ platform, vulkanLoader: vi.fn(() => vulkan) });

function identityModel(): Uint8Array {
  const g = new OnnxGraph('identity');
  g.output(g.op('Identity', [g.input('x', 'float32', [2])]), 'float32', [2]);
  return g.encode({ docString: 'test' });
}

describe('auto provider plan', () => {
  it('leaves WebGPU out on Linux without a Vulkan loader, and says why', () => {
    const p = probe('linux', false);
    expect(autoPlan(p)).toEqual([{ device: 'cuda' }, { device: 'webgpu', skip: `not tried: no Vulkan loader (${VULKAN_LOADER}) on this machine` }, { device: 'cpu' }]);
    expect(p.vulkanLoader).toHaveBeenCalled();
  });

  it('tries WebGPU on Linux with a Vulkan loader, and elsewhere without asking for one', () => {
    expect(autoPlan(probe('linux', true))).toEqual([{ device: 'cuda' }, { device: 'webgpu' }, { device: 'cpu' }]);
    for (const platform of ['darwin', 'win32'] as const) {
      const p = probe(platform, false);
      expect(autoPlan(p).map((s) => s.skip)).toEqual([undefined, undefined, undefined]);
      expect(p.vulkanLoader).not.toHaveBeenCalled();
    }
  });

  it('finds a library in a lib dir or in the ldconfig cache, not by a longer name', () => {
    const none = () => false;
    expect(
      findLibrary(
        VULKAN_LOADER,
        ['/a', '/b'],
        () => undefined,
        (p) => p === '/b/libvulkan.so.1',
      ),
    ).toBe(true);
    expect(findLibrary(VULKAN_LOADER, ['/a'], () => "12 libs found in cache `/etc/ld.so.cache'\n\tlibvulkan.so.1 (libc6,x86-64) => /usr/lib/libvulkan.so.1\n", none)).toBe(true);
    expect(findLibrary(VULKAN_LOADER, ['/a'], () => '\tlibvulkan.so.1.3.280 (libc6,x86-64) => /x\n\tlibvulkan_radeon.so (libc6,x86-64) => /y\n', none)).toBe(false);
    expect(findLibrary(VULKAN_LOADER, ['/a'], () => undefined, none)).toBe(false);
  });

  it('records the provider used and logs the skipped WebGPU as a fallback reason', async () => {
    const logs: string[] = [];
    const { session, device, fallbacks } = await createSession(identityModel(), { provider: 'auto', probe: probe('linux', false), log: (m) => logs.push(m) });
    await session.release();
    expect(['cuda', 'cpu']).toContain(device);
    if (device === 'cpu') {
      expect(fallbacks.map((f) => f.split(':')[0])).toEqual(['cuda', 'webgpu']);
      expect(logs).toEqual([expect.stringMatching(/^execution provider: cpu \(fell back: cuda: .+; webgpu: not tried: no Vulkan loader/)]);
    }
  });

  // Dawn writes its warning from native code, past any JavaScript hook: only a child's stderr shows it.
  it.skipIf(process.platform !== 'linux' || machineProbe.vulkanLoader())('auto on this machine (no Vulkan loader) prints no Vulkan warning', () => {
    const session = fileURLToPath(new URL('./session.ts', import.meta.url));
    const graph = fileURLToPath(new URL('./graph.ts', import.meta.url));
    const script = `
      const { createSession } = await import(${JSON.stringify(session)});
      const { OnnxGraph } = await import(${JSON.stringify(graph)});
      const g = new OnnxGraph('identity');
      g.output(g.op('Identity', [g.input('x', 'float32', [2])]), 'float32', [2]);
      const { device } = await createSession(g.encode({ docString: 'test' }), { provider: 'auto' });
      console.log('device=' + device);`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 180_000 });
    expect(r.stdout).toMatch(/device=(cuda|cpu)/);
    expect(r.stderr).not.toMatch(/Vulkan/);
  });
});
