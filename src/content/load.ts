import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import type { SourceFile } from './validate.js';

export interface CurriculumFolder {
  /** the folder name, which must equal the curriculum id */
  name: string;
  dir: string;
  files: SourceFile[];
}

function walk(dir: string, root: string, out: SourceFile[]): void {
  for (const entry of readdirSync(dir).sort()) {
    if (entry.startsWith('.')) continue;
    const full = join(dir, entry);
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
    return { name: basename(d), dir: d, files };
  });
}
