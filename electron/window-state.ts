import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface WindowState {
  x?: number;
  y?: number;
  width: number;
  height: number;
  maximized: boolean;
}

export interface AppState {
  window: WindowState;
  workspace?: string;
  recent: string[];
}

const DEFAULTS: AppState = { window: { width: 1440, height: 900, maximized: false }, recent: [] };

/** Window bounds, last workspace and recent files, kept in userData/state.json between runs. */
export class StateFile {
  state: AppState;
  constructor(private readonly file: string) {
    this.state = structuredClone(DEFAULTS);
    try {
      if (existsSync(file)) {
        const raw = JSON.parse(readFileSync(file, 'utf8')) as Partial<AppState>;
        this.state = { ...this.state, ...raw, window: { ...DEFAULTS.window, ...raw.window }, recent: Array.isArray(raw.recent) ? raw.recent.filter((r) => typeof r === 'string') : [] };
      }
    } catch {
      /* a corrupt state file just means defaults */
    }
  }
  save(): void {
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      writeFileSync(this.file, JSON.stringify(this.state, null, 2));
    } catch {
      /* not fatal */
    }
  }
  addRecent(path: string): void {
    this.state.recent = [path, ...this.state.recent.filter((p) => p !== path)].slice(0, 12);
    this.save();
  }
}

/** Keeps a restored window on a visible display. */
export function clampToDisplays(w: WindowState, displays: { x: number; y: number; width: number; height: number }[]): WindowState {
  if (w.x === undefined || w.y === undefined) return w;
  const visible = displays.some((d) => (w.x as number) + 100 > d.x && (w.x as number) < d.x + d.width - 100 && (w.y as number) >= d.y - 10 && (w.y as number) < d.y + d.height - 100);
  return visible ? w : { width: w.width, height: w.height, maximized: w.maximized };
}
