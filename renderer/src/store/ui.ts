import { create } from 'zustand';
import type { Diagnostic } from '../api/types';

export type Theme = 'dark' | 'light';
export type BottomTab = 'output' | 'log' | 'history' | 'problems';
export type Dialog =
  | { kind: 'none' }
  | { kind: 'open' }
  | { kind: 'save-as' }
  | { kind: 'json' }
  | { kind: 'shortcuts' }
  | { kind: 'settings' }
  | { kind: 'trust'; nodes: { nodeId: string; params: string[] }[]; notes?: string[]; then: () => void }
  | { kind: 'file-picker'; nodeId: string; param: string; mode: 'file' | 'glob' | 'save-file' }
  | { kind: 'confirm'; title: string; message: string; confirm: string; then: () => void };

export interface Toast {
  id: number;
  kind: 'info' | 'error' | 'success' | 'warn';
  title: string;
  detail?: string;
}

export interface PaletteState {
  open: boolean;
  query: string;
  /** Flow position to drop the chosen node at; null = centre of the view. */
  at: { x: number; y: number } | null;
}

export interface ContextMenu {
  x: number;
  y: number;
  nodeId: string | null;
  flow: { x: number; y: number };
}

export interface UiState {
  theme: Theme;
  bottomTab: BottomTab;
  bottomOpen: boolean;
  bottomHeight: number;
  output: { nodeId: string; port: string | null } | null;
  dialog: Dialog;
  toasts: Toast[];
  palette: PaletteState;
  menu: ContextMenu | null;
  diagnostics: Diagnostic[];
  /** Shown at the top of the canvas while a connection drag hovers an invalid target. */
  connectHint: string | null;
  /** Run option sent with every run: independent branches finish when one node fails. */
  continueOnFailure: boolean;
  /** Run setting: the redis:// queue whose `forge worker`s run the units, or null for local threads (the default). */
  runQueue: string | null;
  setRunQueue(url: string | null): void;
  /** The minimap is off by default: on a laptop screen it covers a corner of the graph. */
  minimap: boolean;
  /** The bottom panel fills the stage (charts and reports want room). */
  bottomMax: boolean;
  /** Nodes lit up on the canvas (the producers of the artifact whose lineage is shown). */
  highlight: string[];
  setHighlight(ids: string[]): void;
  /** Side panels collapse to give a laptop screen's width to the canvas. */
  paletteOpen: boolean;
  inspectorOpen: boolean;
  togglePalette(): void;
  toggleInspector(): void;
  setContinueOnFailure(on: boolean): void;
  toggleMinimap(): void;
  toggleBottomMax(): void;
  setTheme(t: Theme): void;
  toggleTheme(): void;
  showBottom(tab: BottomTab): void;
  toggleBottom(): void;
  setBottomHeight(h: number): void;
  showOutput(nodeId: string, port: string | null): void;
  openDialog(d: Dialog): void;
  closeDialog(): void;
  toast(t: Omit<Toast, 'id'>, ms?: number): void;
  dismissToast(id: number): void;
  openPalette(query?: string, at?: { x: number; y: number } | null): void;
  closePalette(): void;
  setPaletteQuery(q: string): void;
  openMenu(m: ContextMenu): void;
  closeMenu(): void;
  setDiagnostics(d: Diagnostic[]): void;
  setConnectHint(h: string | null): void;
}

function initialTheme(): Theme {
  try {
    const saved = localStorage.getItem('forge.theme');
    if (saved === 'dark' || saved === 'light') return saved;
    return window.matchMedia?.('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
  } catch {
    return 'dark';
  }
}

/** The output panel keeps the height the user dragged it to (charts and reports want room). */
function initialBottomHeight(): number {
  try {
    const saved = Number(localStorage.getItem('forge.bottomHeight'));
    if (Number.isFinite(saved) && saved >= 120) return Math.min(saved, Math.max(120, window.innerHeight - 200));
  } catch {
    /* private mode: default height */
  }
  // A laptop's 800 px keeps most of its height for the canvas.
  return Math.round(Math.min(300, window.innerHeight * 0.3));
}

function savedFlag(key: string, fallback: boolean): boolean {
  try {
    const v = localStorage.getItem(key);
    return v === null ? fallback : v === 'true';
  } catch {
    return fallback;
  }
}
function savedQueue(): string | null {
  try {
    const v = localStorage.getItem('forge.runQueue');
    return v && /^redis:\/\/\S+$/.test(v) ? v : null;
  } catch {
    return null;
  }
}

/**
 * What is remembered of a queue address across restarts: never its password (localStorage is a
 * plain file in the profile folder); after a restart the user types it again.
 */
export function rememberedQueue(url: string): string {
  try {
    const u = new URL(url);
    if (!u.password) return url;
    u.password = '';
    return u.toString();
  } catch {
    return url.replace(/^(redis:\/\/[^:@/]*):[^@]*@/, '$1@');
  }
}

function saveFlag(key: string, v: boolean): void {
  try {
    localStorage.setItem(key, String(v));
  } catch {
    /* private mode: not remembered */
  }
}

let toastSeq = 0;

export const useUi = create<UiState>((set, get) => ({
  theme: typeof window === 'undefined' ? 'dark' : initialTheme(),
  bottomTab: 'output',
  bottomOpen: true,
  bottomHeight: typeof window === 'undefined' ? 300 : initialBottomHeight(),
  output: null,
  dialog: { kind: 'none' },
  toasts: [],
  palette: { open: false, query: '', at: null },
  menu: null,
  diagnostics: [],
  connectHint: null,
  continueOnFailure: typeof window === 'undefined' ? true : savedFlag('forge.continueOnFailure', true),
  runQueue: typeof window === 'undefined' ? null : savedQueue(),
  setRunQueue: (runQueue) => {
    try {
      if (runQueue) localStorage.setItem('forge.runQueue', rememberedQueue(runQueue));
      else localStorage.removeItem('forge.runQueue');
    } catch {
      /* private mode: not remembered */
    }
    set({ runQueue });
  },
  minimap: typeof window === 'undefined' ? false : savedFlag('forge.minimap', false),
  bottomMax: false,
  highlight: [],
  // With no saved choice, the palette starts collapsed below 1440 px (drag-and-drop has Ctrl+K too).
  paletteOpen: typeof window === 'undefined' ? true : savedFlag('forge.paletteOpen', window.innerWidth >= 1440),
  inspectorOpen: typeof window === 'undefined' ? true : savedFlag('forge.inspectorOpen', true),
  togglePalette: () => {
    saveFlag('forge.paletteOpen', !get().paletteOpen);
    set((s) => ({ paletteOpen: !s.paletteOpen }));
  },
  toggleInspector: () => {
    saveFlag('forge.inspectorOpen', !get().inspectorOpen);
    set((s) => ({ inspectorOpen: !s.inspectorOpen }));
  },
  setHighlight: (highlight) => set((s) => (s.highlight.length === 0 && highlight.length === 0 ? s : { highlight })),
  setContinueOnFailure: (continueOnFailure) => {
    saveFlag('forge.continueOnFailure', continueOnFailure);
    set({ continueOnFailure });
  },
  toggleMinimap: () => {
    saveFlag('forge.minimap', !get().minimap);
    set((s) => ({ minimap: !s.minimap }));
  },
  toggleBottomMax: () => set((s) => ({ bottomMax: !s.bottomMax, bottomOpen: true })),
  setTheme: (theme) => {
    try {
      localStorage.setItem('forge.theme', theme);
    } catch {
      /* private mode: theme just isn't remembered */
    }
    set({ theme });
  },
  toggleTheme: () => get().setTheme(get().theme === 'dark' ? 'light' : 'dark'),
  showBottom: (bottomTab) => set({ bottomTab, bottomOpen: true }),
  toggleBottom: () => set((s) => ({ bottomOpen: !s.bottomOpen })),
  setBottomHeight: (h) => {
    const bottomHeight = Math.max(120, Math.min(h, window.innerHeight - 200));
    try {
      localStorage.setItem('forge.bottomHeight', String(Math.round(bottomHeight)));
    } catch {
      /* private mode: height just isn't remembered */
    }
    set({ bottomHeight });
  },
  showOutput: (nodeId, port) => set({ output: { nodeId, port }, bottomTab: 'output', bottomOpen: true }),
  openDialog: (dialog) => set({ dialog }),
  closeDialog: () => set({ dialog: { kind: 'none' } }),
  toast: (t, ms = 5000) => {
    const id = ++toastSeq;
    // At most three at once, so a burst of notices never buries the canvas.
    set((s) => ({ toasts: [...s.toasts.slice(-2), { ...t, id }] }));
    if (ms > 0) window.setTimeout(() => get().dismissToast(id), ms);
  },
  dismissToast: (id) => set((s) => ({ toasts: s.toasts.filter((t) => t.id !== id) })),
  openPalette: (query = '', at = null) => set({ palette: { open: true, query, at }, menu: null }),
  closePalette: () => set((s) => ({ palette: { ...s.palette, open: false } })),
  setPaletteQuery: (query) => set((s) => ({ palette: { ...s.palette, query } })),
  openMenu: (menu) => set({ menu }),
  closeMenu: () => set({ menu: null }),
  setDiagnostics: (diagnostics) => set({ diagnostics }),
  setConnectHint: (connectHint) => set((s) => (s.connectHint === connectHint ? s : { connectHint })),
}));
