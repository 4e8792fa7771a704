import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPackages, unzipPackage } from '../../src/content/load.js';
import { checkPackage, packageHash } from '../../src/xapi/cmi5/package.js';
import { zipSync } from 'fflate';

const ROOT = join(import.meta.dirname, '..', '..');
const CURRICULUM = join(ROOT, 'content', 'curricula', 'new-rep-onboarding');

describe('the sample cmi5 package', () => {
  const [drill] = readPackages(CURRICULUM);

  it('is a valid cmi5 course with one AU that must be passed (75%) and completed', () => {
    expect(drill!.name).toBe('value-statement-drill');
    const { checked, problems } = checkPackage(drill!);
    expect(problems).toEqual([]);
    expect(checked!.course.aus).toEqual([expect.objectContaining({ id: 'https://crewline.example/courses/value-statement-drill/au/drill', moveOn: 'CompletedAndPassed', masteryScore: 0.75, url: 'index.html' })]);
  });

  it('ships the @xapi/cmi5 browser bundle this project depends on, unchanged', () => {
    const vendored = readFileSync(join(CURRICULUM, 'cmi5', 'value-statement-drill', 'vendor', 'cmi5.umd.js'));
    const upstream = readFileSync(join(ROOT, 'node_modules', '@xapi', 'cmi5', 'dist', 'Cmi5.umd.js'));
    expect(vendored.equals(upstream), 'copy node_modules/@xapi/cmi5/dist/Cmi5.umd.js to vendor/cmi5.umd.js after an upgrade').toBe(true);
  });

  it('reads the same from a zip as from its folder (what authoring tools export)', () => {
    const zip = zipSync(Object.fromEntries(drill!.files));
    const files = unzipPackage(zip);
    expect(packageHash(files)).toBe(packageHash(drill!.files));
    expect(unzipPackage(new Uint8Array([1, 2, 3])).size).toBe(0); // not a zip: no files, reported as no cmi5.xml
    expect(checkPackage({ name: 'x', origin: 'cmi5/x.zip', files: new Map() }).problems[0]!.message).toMatch(/no cmi5.xml at its root/);
  });
});
