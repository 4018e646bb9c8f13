import { Menu, type MenuItemConstructorOptions } from 'electron';

export interface MenuHandlers {
  command(id: string): void;
  open(): void;
  openRecent(path: string): void;
  openWorkspace(): void;
  recent(): string[];
  about(): void;
}

/**
 * Native menus. Items the renderer also handles from the keyboard show their shortcut but do not
 * register it (registerAccelerator: false), so one keydown path serves the menu, text fields and
 * Monaco alike; clicking the item sends the same command id.
 */
export function buildMenu(h: MenuHandlers): Menu {
  const isMac = process.platform === 'darwin';
  const cmd = (label: string, id: string, accelerator?: string): MenuItemConstructorOptions => ({
    label,
    accelerator,
    registerAccelerator: false,
    click: () => h.command(id),
  });
  const recent = h.recent();
  const template: MenuItemConstructorOptions[] = [
    ...(isMac ? [{ role: 'appMenu' as const }] : []),
    {
      label: 'File',
      submenu: [
        cmd('New Pipeline', 'file.new', 'CmdOrCtrl+Alt+N'),
        { label: 'Open…', accelerator: 'CmdOrCtrl+O', registerAccelerator: false, click: () => h.open() },
        {
          label: 'Open Recent',
          submenu: recent.length ? recent.map((p) => ({ label: p, click: () => h.openRecent(p) })) : [{ label: 'No recent files', enabled: false }],
        },
        { label: 'Open Workspace Folder…', click: () => h.openWorkspace() },
        { type: 'separator' },
        cmd('Save', 'file.save', 'CmdOrCtrl+S'),
        cmd('Save As…', 'file.saveAs', 'CmdOrCtrl+Shift+S'),
        { type: 'separator' },
        cmd('Import Config…', 'file.import', 'CmdOrCtrl+I'),
        cmd('Export Reproducible Config…', 'file.export', 'CmdOrCtrl+E'),
        { type: 'separator' },
        isMac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    {
      label: 'Edit',
      submenu: [
        cmd('Undo', 'edit.undo', 'CmdOrCtrl+Z'),
        cmd('Redo', 'edit.redo', 'CmdOrCtrl+Shift+Z'),
        { type: 'separator' },
        cmd('Copy', 'edit.copy', 'CmdOrCtrl+C'),
        cmd('Paste', 'edit.paste', 'CmdOrCtrl+V'),
        cmd('Duplicate', 'edit.duplicate', 'CmdOrCtrl+D'),
        cmd('Delete', 'edit.delete', 'Delete'),
        cmd('Select All', 'edit.selectAll', 'CmdOrCtrl+A'),
        { type: 'separator' },
        cmd('Add Node…', 'edit.addNode', 'CmdOrCtrl+K'),
        cmd('Bypass Node', 'edit.bypass', 'CmdOrCtrl+B'),
        cmd('Auto-layout', 'edit.layout', 'CmdOrCtrl+Shift+L'),
      ],
    },
    {
      label: 'Run',
      submenu: [
        cmd('Run All', 'run.all', 'CmdOrCtrl+Enter'),
        cmd('Run This Node', 'run.node', 'Shift+Enter'),
        cmd('Run From Here', 'run.from', 'CmdOrCtrl+Shift+Enter'),
        { type: 'separator' },
        cmd('Cancel Run', 'run.cancel', 'CmdOrCtrl+.'),
      ],
    },
    {
      label: 'View',
      submenu: [
        cmd('Fit View', 'view.fit', 'Shift+1'),
        cmd('Actual Size', 'view.zoom100', 'CmdOrCtrl+0'),
        cmd('Zoom In', 'view.zoomIn', 'CmdOrCtrl+='),
        cmd('Zoom Out', 'view.zoomOut', 'CmdOrCtrl+-'),
        { type: 'separator' },
        cmd('Graph as JSON', 'view.json', 'CmdOrCtrl+J'),
        cmd('Run Log', 'view.log'),
        cmd('Run History', 'view.history', 'CmdOrCtrl+H'),
        cmd('Problems', 'view.problems'),
        cmd('Toggle Bottom Panel', 'view.panel', 'CmdOrCtrl+`'),
        { type: 'separator' },
        cmd('Toggle Dark/Light Theme', 'view.theme', 'CmdOrCtrl+Shift+T'),
        { role: 'togglefullscreen' },
        { role: 'toggleDevTools' },
      ],
    },
    {
      label: 'Help',
      submenu: [cmd('Keyboard Shortcuts', 'help.shortcuts', '?'), { type: 'separator' }, { label: 'About Forge Studio', click: () => h.about() }],
    },
  ];
  return Menu.buildFromTemplate(template);
}
