/**
 * Downloads of a submission's PDFs: the rep's script (for the rep, their manager, trainers and
 * admins) and the manager's workbook (their manager, trainers and admins; not the rep). Both are
 * drawn in the PDF thread pool (pdf-pool.ts), so a download never holds up the web process.
 *
 * Who may see a submission: 'enrollments.read' scoped to the rep, where the rep's manager is the
 * one the submission was made to or the rep's manager now. Outside that scope the answer is 404, as
 * elsewhere: whether the submission exists is not revealed.
 */
import { Types } from 'mongoose';
import type { Container } from '../../container.js';
import { canAccess, requireAccess, type Actor } from '../../engine/access.js';
import { NotFound } from '../../errors.js';
import { route, type RouteDef } from '../../http/route.js';
import type { UserDoc } from '../accounts/model.js';
import { actorOf } from '../accounts/service.js';
import { documentInput } from './document-input.js';
import type { SubmissionDoc } from './model.js';
import { renderPdf, type PdfKind } from './pdf-pool.js';

/** A file-name-safe form of a name: "Riley Chén" → "riley-chen". */
export function slug(text: string): string {
  const s = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '');
  return s || 'rep';
}

const idOf = (v: unknown): string | null => (v ? String(v) : null);

/** The submission, if the actor may see this document of it; NotFound otherwise. */
async function visibleSubmission(c: Container, actor: Actor, submissionId: string, kind: PdfKind): Promise<{ doc: SubmissionDoc; rep: UserDoc }> {
  requireAccess(actor, 'enrollments.read');
  const doc = Types.ObjectId.isValid(submissionId) ? await c.models.Submission.findById(submissionId).lean<SubmissionDoc>() : null;
  const rep = doc ? await c.models.User.findById(doc.repId).lean<UserDoc>() : null;
  if (!doc || !rep) throw new NotFound('No such submission.');
  const userId = String(rep._id);
  const managers = [...new Set([idOf(doc.managerId), idOf(rep.managerId)])];
  const inScope = managers.some((managerId) => canAccess(actor, 'enrollments.read', { userId, managerId }));
  // the workbook is the manager's: the rep does not download it
  if (!inScope || (kind === 'workbook' && actor.id === userId)) throw new NotFound('No such submission.');
  return { doc: { ...doc, answers: doc.answers ?? {}, versions: doc.versions ?? [] }, rep };
}

export function transferDocumentRoutes(c: Container): RouteDef[] {
  const download = (kind: PdfKind): RouteDef['handler'] => async (req, res) => {
    const { doc, rep } = await visibleSubmission(c, actorOf(req.user!), String(req.params.id), kind);
    const input = await documentInput({ curricula: c.curricula, users: c.models.User, publicUrl: c.config.publicUrl }, doc, rep, req.query.version);
    // the approved version: the PDF kept when it was approved, byte for byte
    const kept = kind === 'script' && input.status === 'approved' ? await c.approvedDocuments.get(String(doc._id), input.version) : null;
    const pdf = kept ?? (await renderPdf(kind, input));
    const name = `${slug(doc.formId)}${kind === 'workbook' ? '-workbook' : ''}-${slug(rep.name)}-v${input.version}.pdf`;
    res
      .status(200)
      .type('application/pdf')
      .set('Content-Disposition', `attachment; filename="${name}"`)
      .set('Cache-Control', 'private, no-store')
      .send(pdf);
  };
  return [
    route({ method: 'get', path: '/submissions/:id/script.pdf', kind: 'page', access: 'enrollments.read', handler: download('script') }),
    route({ method: 'get', path: '/submissions/:id/workbook.pdf', kind: 'page', access: 'enrollments.read', handler: download('workbook') }),
  ];
}
