import { z } from 'zod';
import { STATEMENT_ERASURES } from '../../engine/privacy.js';

/** The erase form: what happens to the statements, and the person's email typed to confirm. */
export const eraseInput = z
  .object({
    statements: z.enum(STATEMENT_ERASURES, { error: `choose ${STATEMENT_ERASURES.join(' or ')}` }),
    confirm: z.string({ error: 'type the person’s email address' }).trim().min(1, 'type the person’s email address').max(320, 'is too long'),
  })
  .strict();
