import type { z } from 'zod';
import { ValidationFailed } from '../../errors.js';

/**
 * Parses request input with a zod schema; a failure lists every problem with where it is
 * (e.g. `email: must be an email address`). Nothing downstream sees unvalidated input, and no
 * object-valued input (`{"$ne": …}`) reaches a query where a string is expected.
 */
export function parse<S extends z.ZodType>(schema: S, input: unknown, where: 'body' | 'query' | 'params' = 'body'): z.infer<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => ({
    path: issue.path.length ? issue.path.join('.') : where,
    message: issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message,
  }));
  throw new ValidationFailed(problems, `The request ${where} is not valid: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}.`);
}
