import { createHash } from 'node:crypto';
import { parseCourse, type Cmi5Course, type CourseProblem } from './course.js';

/**
 * A cmi5 package as found in a curriculum folder: `cmi5/<name>.zip` (cmi5.xml at the zip's root,
 * as authoring tools export it) or a folder `cmi5/<name>/` holding cmi5.xml and the AU's files.
 */
export interface PackageSource {
  name: string;
  /** where it came from, for problem messages */
  origin: string;
  files: Map<string, Uint8Array>;
}

/** A checked package: its content hash (the key its files are stored under) and its course. */
export interface CheckedPackage {
  name: string;
  hash: string;
  course: Cmi5Course;
}

/** Same files, same hash: a re-published package is stored once. */
export function packageHash(files: Map<string, Uint8Array>): string {
  const h = createHash('sha256');
  for (const path of [...files.keys()].sort()) {
    h.update(`${path}\0${files.get(path)!.length}\0`);
    h.update(files.get(path)!);
  }
  return h.digest('hex').slice(0, 32);
}

export function checkPackage(pkg: PackageSource): { checked?: CheckedPackage; problems: (CourseProblem & { file: string })[] } {
  const xml = pkg.files.get('cmi5.xml');
  if (!xml) return { problems: [{ file: pkg.origin, line: 1, field: '', message: 'has no cmi5.xml at its root: a cmi5 package needs its course structure there' }] };
  const file = `${pkg.origin}${pkg.origin.endsWith('.zip') ? ':' : '/'}cmi5.xml`;
  const { course, problems } = parseCourse(Buffer.from(xml).toString('utf8'), (path) => pkg.files.has(path));
  if (!course) return { problems: problems.map((p) => ({ ...p, file })) };
  return { checked: { name: pkg.name, hash: packageHash(pkg.files), course }, problems: [] };
}

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  htm: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  json: 'application/json',
  xml: 'application/xml',
  svg: 'image/svg+xml',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  ico: 'image/x-icon',
  mp3: 'audio/mpeg',
  mp4: 'video/mp4',
  webm: 'video/webm',
  woff: 'font/woff',
  woff2: 'font/woff2',
  ttf: 'font/ttf',
  pdf: 'application/pdf',
  txt: 'text/plain; charset=utf-8',
  vtt: 'text/vtt',
};

export function contentTypeOf(path: string): string {
  return TYPES[path.slice(path.lastIndexOf('.') + 1).toLowerCase()] ?? 'application/octet-stream';
}
