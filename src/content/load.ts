import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { unzipSync } from 'fflate';
import type { PackageSource } from '../xapi/cmi5/package.js';
import type { SourceFile } from './validate.js';

export interface CurriculumFolder {
  /** the folder name, which must equal the curriculum id */
  name: string;
  dir: string;
  files: SourceFile[];
  /** cmi5 packages under cmi5/ (zips and folders) */
  packages: PackageSource[];
}

function walk(dir: string, root: string, out: SourceFile[]): void {
  for (const entry of readdirSync(dir).sort()) {
    if (entry.startsWith('.')) continue;
    const full = join(dir, entry);
    if (dir === root && entry === 'cmi5') continue; // packages: read by readPackages
    if (statSync(full).isDirectory()) walk(full, root, out);
    else if (/\.(ya?ml|md)$/.test(entry)) out.push({ path: relative(process.cwd(), full) || full, text: readFileSync(full, 'utf8') });
  }
}

/**
 * The curriculum folders under `dir`: `dir` itself when it holds a curriculum.yaml, else its
 * `curricula/` subfolder (as in `content/`), else its subfolders.
 */
export function findCurriculumFolders(dir: string): CurriculumFolder[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`${dir} is not a folder`);
  const isCurriculum = (d: string) => existsSync(join(d, 'curriculum.yaml')) || existsSync(join(d, 'curriculum.yml'));
  let dirs: string[];
  if (isCurriculum(dir)) dirs = [dir];
  else {
    const parent = existsSync(join(dir, 'curricula')) ? join(dir, 'curricula') : dir;
    dirs = readdirSync(parent)
      .sort()
      .map((d) => join(parent, d))
      .filter((d) => statSync(d).isDirectory() && !basename(d).startsWith('.'));
  }
  return dirs.map((d) => {
    const files: SourceFile[] = [];
    walk(d, d, files);
    return { name: basename(d), dir: d, files, packages: readPackages(d) };
  });
}

function readTree(dir: string, prefix: string, out: Map<string, Uint8Array>): void {
  for (const entry of readdirSync(dir).sort()) {
    if (entry.startsWith('.')) continue;
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) readTree(full, `${prefix}${entry}/`, out);
    else out.set(`${prefix}${entry}`, readFileSync(full));
  }
}

/** The cmi5 packages of a curriculum folder: `cmi5/<name>.zip` and `cmi5/<name>/` (with cmi5.xml). */
export function readPackages(curriculumDir: string): PackageSource[] {
  const dir = join(curriculumDir, 'cmi5');
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  const out: PackageSource[] = [];
  for (const entry of readdirSync(dir).sort()) {
    if (entry.startsWith('.')) continue;
    const full = join(dir, entry);
    const origin = relative(process.cwd(), full) || full;
    if (statSync(full).isDirectory()) {
      const files = new Map<string, Uint8Array>();
      readTree(full, '', files);
      out.push({ name: entry, origin, files });
    } else if (entry.toLowerCase().endsWith('.zip')) {
      out.push({ name: entry.slice(0, -4), origin, files: unzipPackage(readFileSync(full)) });
    }
  }
  return out;
}

/** A zip's files by path (folders left out); an unreadable zip gives no files (reported as no cmi5.xml). */
export function unzipPackage(zip: Uint8Array): Map<string, Uint8Array> {
  try {
    const entries = unzipSync(zip);
    return new Map(Object.entries(entries).filter(([path]) => !path.endsWith('/') && !path.startsWith('__MACOSX/')));
  } catch {
    return new Map();
  }
}
