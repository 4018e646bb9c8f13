// The only bridge between the sandboxed renderer and the main process: a handful of typed calls,
// no Node APIs, no ipcRenderer passthrough. Keep in sync with renderer/src/desktop.ts.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';

const bridge = {
  platform: process.platform,
  onCommand(cb: (command: string, arg?: string) => void): () => void {
    const listener = (_e: IpcRendererEvent, command: unknown, arg: unknown) => {
      if (typeof command === 'string') cb(command, typeof arg === 'string' ? arg : undefined);
    };
    ipcRenderer.on('forge:command', listener);
    return () => ipcRenderer.removeListener('forge:command', listener);
  },
  saveFile(opts: { title: string; defaultName: string; content: string }): Promise<string | null> {
    return ipcRenderer.invoke('forge:save-file', { title: String(opts.title), defaultName: String(opts.defaultName), content: String(opts.content) }) as Promise<string | null>;
  },
  openFile(opts: { title: string }): Promise<{ path: string; content: string } | null> {
    return ipcRenderer.invoke('forge:open-file', { title: String(opts.title) }) as Promise<{ path: string; content: string } | null>;
  },
  setDocument(info: { title: string; path: string | null; dirty: boolean }): void {
    ipcRenderer.send('forge:document', { title: String(info.title), path: info.path === null ? null : String(info.path), dirty: info.dirty === true });
  },
};

contextBridge.exposeInMainWorld('forgeDesktop', bridge);
