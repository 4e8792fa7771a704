import type { Response } from 'express';
import { Conflict, ValidationFailed } from '../errors.js';

/**
 * Renders a form again with the problems next to their fields, or rethrows what is not a form
 * problem. The status says what happened (422 bad input, 409 conflict); the input stays filled in.
 */
export function renderFormProblem(res: Response, view: string, data: Record<string, unknown>, err: unknown): void {
  if (err instanceof ValidationFailed) {
    res.status(422).render(view, { ...data, errors: fieldErrors(err), formError: 'Please correct the highlighted fields.' });
    return;
  }
  if (err instanceof Conflict) {
    res.status(409).render(view, { ...data, formError: err.message });
    return;
  }
  throw err;
}

/** Field path → its problems in one sentence, for `errors.<field>` in the templates. */
export function fieldErrors(err: ValidationFailed): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const p of err.problems) errors[p.path] = errors[p.path] ? `${errors[p.path]}; ${p.message}` : p.message;
  return errors;
}
