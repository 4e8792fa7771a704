import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/** `onramp content validate` on the real sample, and on a broken copy of it. */
const ROOT = join(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'onramp-content-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function validate(dir: string) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'content', 'validate', dir], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'warn' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function edit(file: string, from: string | RegExp, to: string) {
  const text = readFileSync(file, 'utf8');
  const next = text.replace(from, to);
  if (next === text) throw new Error(`${file}: nothing matched ${String(from)}`);
  writeFileSync(file, next);
}

describe('onramp content validate', () => {
  it('passes the sample curriculum', () => {
    const r = validate('content');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/new-rep-onboarding: valid — 3 phases, 1\d modules, \d+ banks, 1 forms/);
  });

  it('reports a cycle, an unknown prerequisite and a bad threshold, one line each with file:line, and exits 1', () => {
    const copy = join(work, 'curricula', 'new-rep-onboarding');
    cpSync(join(ROOT, 'content', 'curricula', 'new-rep-onboarding'), copy, { recursive: true });
    const modules = join(copy, 'modules');
    // a cycle: the first lesson now waits for the foundations check, which waits for it
    edit(join(modules, '02-market-and-personas.md'), /^phase: foundations$/m, 'phase: foundations\nprerequisites:\n  all: [foundations-check]');
    // an unknown prerequisite
    edit(join(modules, '07-appointment-setting.md'), /^phase: prospecting$/m, 'phase: prospecting\nprerequisites:\n  all: [cold-calling-101]');
    // a threshold out of range
    edit(join(copy, 'curriculum.yaml'), /^masteryThreshold: \d+$/m, 'masteryThreshold: 180');

    const r = validate(work);
    expect(r.code).toBe(1);
    const lines = r.err.trim().split('\n');
    expect(lines).toContainEqual(expect.stringMatching(/curricula\/new-rep-onboarding\/curriculum\.yaml:\d+ masteryThreshold: must be between 1 and 100$/));
    expect(lines).toContainEqual(expect.stringMatching(/modules\/07-appointment-setting\.md:\d+ prerequisites\.all\[0\]: unknown module 'cold-calling-101'$/));
    expect(lines).toContainEqual(expect.stringMatching(/modules\/02-market-and-personas\.md:\d+ prerequisites: prerequisites form a cycle: market-and-personas → foundations-check → market-and-personas$/));
    expect(lines.at(-1)).toMatch(/^\d+ problem\(s\) found: nothing can be published until they are fixed\.$/);
  });
});
