import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';

/**
 * The app's "Granted folders" setting: folders outside the graph folder and workspace that every
 * run on this workspace may read and write without asking (like `forge --allow`, but remembered).
 * Kept in the workspace's .forge folder so the app and the CLI on this workspace agree.
 */
export const GrantedFolders = z.array(z.string().min(1, 'empty path').max(4096).refine(isAbsolute, 'must be an absolute path')).max(100, 'at most 100 granted folders');

export const AppSettings = z.object({ grantedFolders: GrantedFolders });
export type AppSettings = z.output<typeof AppSettings>;

const FILE = 'settings.json';

export class GrantedFolderError extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
    this.name = 'GrantedFolderError';
  }
}

export class SettingsStore {
  private readonly file: string;

  constructor(forgeDir: string) {
    this.file = join(forgeDir, FILE);
  }

  /** A missing or unreadable file is "no grants": a damaged setting must never widen access. */
  read(): AppSettings {
    if (!existsSync(this.file)) return { grantedFolders: [] };
    try {
      const parsed = AppSettings.safeParse(JSON.parse(readFileSync(this.file, 'utf8')));
      return parsed.success ? parsed.data : { grantedFolders: [] };
    } catch {
      return { grantedFolders: [] };
    }
  }

  /**
   * Checks each folder exists and is a folder (naming the field), normalises and de-duplicates,
   * then replaces the file atomically so a crash never leaves half a setting.
   */
  write(settings: AppSettings): AppSettings {
    const folders: string[] = [];
    settings.grantedFolders.forEach((raw, i) => {
      const abs = resolve(raw);
      if (!existsSync(abs)) throw new GrantedFolderError(`grantedFolders.${i}: ${raw} does not exist`, `grantedFolders.${i}`);
      if (!statSync(abs).isDirectory()) throw new GrantedFolderError(`grantedFolders.${i}: ${raw} is not a folder`, `grantedFolders.${i}`);
      if (abs === '/') throw new GrantedFolderError(`grantedFolders.${i}: granting the whole file system would switch confinement off`, `grantedFolders.${i}`);
      if (!folders.includes(abs)) folders.push(abs);
    });
    const next: AppSettings = { grantedFolders: folders };
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(next, null, 2));
    renameSync(tmp, this.file);
    return next;
  }
}
