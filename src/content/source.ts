import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';

/** One problem in the content, where a trainer can find it. */
export interface ContentProblem {
  file: string;
  line: number;
  /** dotted path of the field, e.g. `prerequisites.all[1]`; empty for the file as a whole */
  field: string;
  message: string;
}

export function formatProblem(p: ContentProblem): string {
  return `${p.file}:${p.line}${p.field ? ` ${p.field}` : ''}: ${p.message}`;
}

export type FieldPath = (string | number)[];

export function fieldName(path: FieldPath): string {
  return path.reduce<string>((acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '');
}

/**
 * A parsed YAML text that remembers where each value came from, so problems found later (a
 * reference to a module that does not exist) still point at file and line.
 */
export class YamlSource {
  readonly doc: Document;
  private readonly lines = new LineCounter();

  constructor(
    readonly file: string,
    text: string,
    /** lines before the YAML starts (front matter: the opening `---`) */
    private readonly lineOffset = 0,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
  }

  get data(): unknown {
    return this.doc.toJS();
  }

  /** The line of the value at path, or of its nearest parent that exists. */
  lineOf(path: FieldPath): number {
    for (let i = path.length; i >= 0; i--) {
      const node = i === 0 ? this.doc.contents : this.doc.getIn(path.slice(0, i), true);
      if (isNode(node) && node.range) return this.lines.linePos(node.range[0]).line + this.lineOffset;
    }
    return 1 + this.lineOffset;
  }

  problem(path: FieldPath, message: string): ContentProblem {
    return { file: this.file, line: this.lineOf(path), field: fieldName(path), message };
  }

  syntaxProblems(): ContentProblem[] {
    return this.doc.errors.map((e) => ({
      file: this.file,
      line: this.lines.linePos(e.pos[0]).line + this.lineOffset,
      field: '',
      message: `YAML: ${e.message.split('\n')[0]}`,
    }));
  }

  /** Parses with a schema; every issue becomes a problem at its line. */
  parse<S extends z.ZodType>(schema: S): { value?: z.infer<S>; problems: ContentProblem[] } {
    const syntax = this.syntaxProblems();
    if (syntax.length) return { problems: syntax };
    let data: unknown;
    try {
      data = this.data;
    } catch (err) {
      // what the parser leaves to toJS(): an alias to no anchor, an alias bomb (too many aliases)
      return { problems: [this.problem([], `YAML: ${(err as Error).message}`)] };
    }
    const result = schema.safeParse(data ?? {});
    if (result.success) return { value: result.data, problems: [] };
    return {
      problems: result.error.issues.map((issue) => {
        const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
        let message = issue.message;
        if (issue.code === 'invalid_type' && (issue as { input?: unknown }).input === undefined) message = 'is required';
        if (issue.code === 'unrecognized_keys') message = `unknown field(s): ${issue.keys.join(', ')}`;
        return this.problem(path, message);
      }),
    };
  }
}

/** Splits `---\nfront matter\n---\nbody`; the front matter's lines keep their place in the file. */
export function splitFrontMatter(text: string): { frontMatter: string; body: string } | undefined {
  const m = /^---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)([\s\S]*)$/.exec(text);
  return m ? { frontMatter: m[1]!, body: m[2]! } : undefined;
}
