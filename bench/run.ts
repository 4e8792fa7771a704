/**
 * `npm run bench -- NAME` runs bench/NAME.ts. Each benchmark prints its figures as it goes and ends
 * with one JSON line: figures, ratios and targets.
 */
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const name = process.argv[2];
const available = readdirSync(here).filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_')).map((f) => f.replace(/\.ts$/, ''));
if (!name || !existsSync(join(here, `${name}.ts`))) {
  console.error(`Usage: npm run bench -- NAME\nBenchmarks: ${available.join(', ')}`);
  process.exit(2);
}
await import(pathToFileURL(join(here, `${name}.ts`)).href);
