import { checkPackage } from '../../src/xapi/cmi5/package.js';

/** The first problem message of a package made of these files (text). */
export function checkAuPackage(files: Map<string, string>): string {
  const { problems } = checkPackage({ name: 'p', origin: 'cmi5/p.zip', files: new Map([...files].map(([k, v]) => [k, Buffer.from(v)])) });
  return problems[0]?.message ?? '';
}
