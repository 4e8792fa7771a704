import { XMLParser, XMLValidator } from 'fast-xml-parser';

/**
 * A cmi5 course structure (cmi5.xml, cmi5 spec section 13) as Onramp keeps it. Pure: parsing and
 * checking only, no I/O.
 */
export const CMI5_NAMESPACE = 'https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd';
export const MOVE_ON = ['NotApplicable', 'Passed', 'Completed', 'CompletedAndPassed', 'CompletedOrPassed'] as const;
export type MoveOn = (typeof MOVE_ON)[number];
export const LAUNCH_METHODS = ['AnyWindow', 'OwnWindow'] as const;
/** Query parameters the LMS adds to the launch URL: an AU's own URL may not use them (8.1). */
export const RESERVED_PARAMS = ['endpoint', 'fetch', 'actor', 'registration', 'activityId'];

export interface Cmi5Au {
  /** the publisher's id (an IRI) */
  id: string;
  title: string;
  description: string;
  /** relative to the package root, or absolute */
  url: string;
  moveOn: MoveOn;
  masteryScore: number | null;
  launchMethod: (typeof LAUNCH_METHODS)[number];
  launchParameters: string | null;
  entitlementKey: string | null;
  /** ids of the blocks around this AU, innermost first */
  blocks: string[];
}

export interface Cmi5Block {
  id: string;
  title: string;
  /** AU and block ids directly inside */
  children: string[];
}

export interface Cmi5Course {
  id: string;
  title: string;
  description: string;
  aus: Cmi5Au[];
  blocks: Cmi5Block[];
}

export interface CourseProblem {
  line: number;
  field: string;
  message: string;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  textNodeName: '#text',
  trimValues: true,
  parseTagValue: false,
  parseAttributeValue: false,
  preserveOrder: true,
});

/** preserveOrder output: [{ tag: [children], ':@': {attrs} }] */
type Ordered = Record<string, unknown>[];

function tagOf(n: Record<string, unknown>): string | undefined {
  return Object.keys(n).find((k) => k !== ':@');
}
function attrs(n: Record<string, unknown>): Record<string, string> {
  return (n[':@'] as Record<string, string> | undefined) ?? {};
}
function children(n: Record<string, unknown>): Ordered {
  const tag = tagOf(n);
  return tag ? ((n[tag] as Ordered | undefined) ?? []) : [];
}
function local(tag: string): string {
  return tag.includes(':') ? tag.slice(tag.indexOf(':') + 1) : tag;
}
function text(n: Record<string, unknown>): string {
  return children(n)
    .map((c) => (typeof c['#text'] === 'string' ? c['#text'] : ''))
    .join('')
    .trim();
}
/** The first langstring of a title / description (preferring en). */
function langstring(parent: Ordered, name: string): string {
  const el = parent.find((c) => local(tagOf(c) ?? '') === name);
  if (!el) return '';
  const strings = children(el).filter((c) => local(tagOf(c) ?? '') === 'langstring');
  const en = strings.find((s) => /^en/i.test(attrs(s)['@lang'] ?? ''));
  return text(en ?? strings[0] ?? el);
}

function isAbsoluteIri(v: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\S+$/i.test(v);
}

export function lineOf(xml: string, needle: string): number {
  const at = xml.indexOf(needle);
  return at < 0 ? 1 : xml.slice(0, at).split('\n').length;
}

/**
 * Parses and checks cmi5.xml. `hasFile` tells whether a relative AU url exists in the package
 * (zip or folder); without it, relative urls are not checked.
 */
export function parseCourse(xml: string, hasFile?: (path: string) => boolean): { course?: Cmi5Course; problems: CourseProblem[] } {
  const problems: CourseProblem[] = [];
  const fail = (needle: string, field: string, message: string) => problems.push({ line: lineOf(xml, needle), field, message });
  const valid = XMLValidator.validate(xml);
  if (valid !== true) return { problems: [{ line: valid.err.line, field: '', message: `is not well-formed XML: ${valid.err.msg}` }] };

  const doc = parser.parse(xml) as Ordered;
  const root = doc.find((n) => local(tagOf(n) ?? '') === 'courseStructure');
  if (!root) return { problems: [{ line: 1, field: '', message: 'has no <courseStructure> root element' }] };
  const ns = attrs(root)['@xmlns'];
  if (ns !== CMI5_NAMESPACE) fail('courseStructure', 'courseStructure', `must declare xmlns="${CMI5_NAMESPACE}"${ns ? `, not "${ns}"` : ''}`);

  const top = children(root);
  const courseEl = top.find((c) => local(tagOf(c) ?? '') === 'course');
  if (!courseEl) return { problems: [...problems, { line: lineOf(xml, 'courseStructure'), field: 'course', message: 'is missing: a course structure has one <course> element' }] };
  const courseId = (attrs(courseEl)['@id'] ?? '').trim();
  if (!isAbsoluteIri(courseId)) fail('<course', 'course.id', `must be an absolute IRI, not "${courseId}"`);

  const ids = new Set<string>([courseId]);
  const aus: Cmi5Au[] = [];
  const blocks: Cmi5Block[] = [];

  const walk = (nodes: Ordered, path: string[]): string[] => {
    const direct: string[] = [];
    for (const n of nodes) {
      const tag = local(tagOf(n) ?? '');
      if (tag !== 'au' && tag !== 'block') continue;
      const a = attrs(n);
      const id = (a['@id'] ?? '').trim();
      const field = `${tag}${id ? ` ${id}` : ''}`;
      if (!isAbsoluteIri(id)) fail(id || `<${tag}`, `${tag}.id`, `must be an absolute IRI, not "${id}"`);
      else if (ids.has(id)) fail(id, `${tag}.id`, `"${id}" is used twice: AU, block and course ids must be unique`);
      ids.add(id);
      direct.push(id);
      const kids = children(n);
      const title = langstring(kids, 'title');
      if (!title) fail(id || `<${tag}`, `${field} title`, 'needs a <title> with a <langstring>');
      if (tag === 'block') {
        const inner = walk(kids, [id, ...path]);
        if (!inner.length) fail(id || '<block', field, 'is empty: a block holds at least one AU or block');
        blocks.push({ id, title, children: inner });
        continue;
      }
      const moveOn = (a['@moveOn'] ?? 'NotApplicable').trim();
      if (!(MOVE_ON as readonly string[]).includes(moveOn)) fail(id, `${field} moveOn`, `must be one of ${MOVE_ON.join(', ')}, not "${moveOn}"`);
      const launchMethod = (a['@launchMethod'] ?? 'AnyWindow').trim();
      if (!(LAUNCH_METHODS as readonly string[]).includes(launchMethod)) fail(id, `${field} launchMethod`, `must be AnyWindow or OwnWindow, not "${launchMethod}"`);
      let masteryScore: number | null = null;
      if (a['@masteryScore'] !== undefined) {
        masteryScore = Number(a['@masteryScore'].trim());
        if (!Number.isFinite(masteryScore) || masteryScore < 0 || masteryScore > 1) fail(id, `${field} masteryScore`, `must be a decimal from 0 to 1, not "${a['@masteryScore']}"`);
      }
      const urlEl = kids.find((c) => local(tagOf(c) ?? '') === 'url');
      const url = urlEl ? text(urlEl) : '';
      if (!url) fail(id, `${field} url`, 'is missing: every AU needs a <url>');
      else {
        const absolute = /^[a-z][a-z0-9+.-]*:/i.test(url);
        const query = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1).split('#')[0] : '');
        const reserved = RESERVED_PARAMS.filter((p) => query.has(p));
        if (reserved.length) fail(url, `${field} url`, `may not use the launch parameter(s) ${reserved.join(', ')}: the LMS adds them`);
        if (!absolute) {
          const path = url.split(/[?#]/)[0]!.replace(/^\.?\//, '');
          if (path.includes('..')) fail(url, `${field} url`, `must stay inside the package, not "${url}"`);
          else if (hasFile && !hasFile(path)) fail(url, `${field} url`, `points to "${path}", which is not in the package`);
        } else if (!/^https?:/i.test(url)) fail(url, `${field} url`, `must be relative to the package or an http(s) URL, not "${url}"`);
      }
      const el = (name: string) => kids.find((c) => local(tagOf(c) ?? '') === name);
      const launchParameters = el('launchParameters') ? text(el('launchParameters')!) : null;
      const entitlementKey = el('entitlementKey') ? text(el('entitlementKey')!) : null;
      aus.push({
        id,
        title,
        description: langstring(kids, 'description'),
        url,
        moveOn: moveOn as MoveOn,
        masteryScore,
        launchMethod: launchMethod as Cmi5Au['launchMethod'],
        launchParameters,
        entitlementKey,
        blocks: path,
      });
    }
    return direct;
  };
  walk(top, []);
  if (!aus.length) fail('<course', 'course', 'has no <au>: a course needs at least one assignable unit');
  if (problems.length) return { problems };
  return { course: { id: courseId, title: langstring(children(courseEl), 'title'), description: langstring(children(courseEl), 'description'), aus, blocks }, problems };
}

/**
 * Whether an AU is satisfied by what was recorded in its registration (13.1.4). A waived AU is
 * satisfied whatever its moveOn; failed never satisfies.
 */
export function isSatisfied(moveOn: MoveOn, seen: { completed: boolean; passed: boolean; waived: boolean }): boolean {
  if (seen.waived) return true;
  switch (moveOn) {
    case 'NotApplicable':
      return true;
    case 'Passed':
      return seen.passed;
    case 'Completed':
      return seen.completed;
    case 'CompletedAndPassed':
      return seen.completed && seen.passed;
    case 'CompletedOrPassed':
      return seen.completed || seen.passed;
  }
}
