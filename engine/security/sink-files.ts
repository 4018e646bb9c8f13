import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { processAlive } from '../util/process.js';

const TMP_MARK = '.forge-tmp-';

/** Temp folders a killed run left beside `target` (`<name>.forge-tmp-<pid>-…`), removed when their process is gone. */
export function sweepDeadTemps(target: string): void {
  const prefix = `${basename(target)}${TMP_MARK}`;
  let names: string[];
  try {
    names = readdirSync(dirname(target));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (Number.isInteger(pid) && pid > 0 && !processAlive(pid)) rmSync(join(dirname(target), name), { recursive: true, force: true });
  }
}

/** A fresh folder beside `target` named after this process, so a later run can tell whether it is abandoned. */
export function freshTempBeside(target: string): string {
  mkdirSync(dirname(target), { recursive: true });
  const tmp = `${target}${TMP_MARK}${process.pid}-${randomBytes(4).toString('hex')}`;
  mkdirSync(tmp);
  return tmp;
}

/**
 * Moves the files a sink wrote (flat, in `tmp`) into `target`, replacing only files of the same
 * name: whatever else the folder holds was not written by this sink and stays untouched.
 */
export function moveOwnFiles(tmp: string, target: string): string[] {
  mkdirSync(target, { recursive: true });
  const moved: string[] = [];
  for (const name of readdirSync(tmp).sort()) {
    renameSync(join(tmp, name), join(target, name));
    moved.push(name);
  }
  rmSync(tmp, { recursive: true, force: true });
  return moved;
}
