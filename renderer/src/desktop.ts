/**
 * The Electron preload exposes this (and only this) as `window.forgeDesktop`; in a browser it is
 * absent and the UI falls back to web equivalents (downloads, file inputs, in-app dialogs).
 * Keep in sync with electron/preload.cts.
 */
export interface DesktopBridge {
  readonly platform: string;
  /** Native menu items and OS file-open requests arrive here as command ids (see commands.ts). */
  onCommand(cb: (command: string, arg?: string) => void): () => void;
  /** Native save dialog; writes `content` to the chosen file. Resolves to the path, or null if cancelled. */
  saveFile(opts: { title: string; defaultName: string; content: string }): Promise<string | null>;
  /** Native open dialog for a JSON graph/config; resolves to its path and text, or null. */
  openFile(opts: { title: string }): Promise<{ path: string; content: string } | null>;
  /** Tells the main process about the document (window title, recent files, close prompt). */
  setDocument(info: { title: string; path: string | null; dirty: boolean }): void;
}

export function desktop(): DesktopBridge | undefined {
  return (window as unknown as { forgeDesktop?: DesktopBridge }).forgeDesktop;
}
