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
import type { DocumentInput } from './documents.js';
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

/** Which version: ?version=N (a submitted one), else the latest submitted version, else the draft. */
function pickVersion(doc: SubmissionDoc, asked: unknown): Pick<DocumentInput, 'answers' | 'version' | 'submittedAt' | 'status'> {
  const versions = [...doc.versions].sort((a, b) => a.n - b.n);
  const latest = versions.at(-1);
  if (asked !== undefined && asked !== '') {
    const n = typeof asked === 'string' && /^\d{1,6}$/.test(asked) ? Number(asked) : NaN;
    const v = versions.find((x) => x.n === n);
    if (!v) {
      const have = versions.length ? `it has version${versions.length > 1 ? 's' : ''} ${versions.map((x) => x.n).join(', ')}` : 'it has not been submitted yet';
      throw new NotFound(`This submission has no version ${String(asked).slice(0, 20)}: ${have}.`);
    }
    return { answers: v.answers ?? {}, version: v.n, submittedAt: new Date(v.at), status: doc.status === 'approved' && v === latest ? 'approved' : 'submitted' };
  }
  if (latest) return { answers: latest.answers ?? {}, version: latest.n, submittedAt: new Date(latest.at), status: doc.status === 'approved' ? 'approved' : 'submitted' };
  return { answers: doc.answers, version: versions.length + 1, submittedAt: new Date(doc.savedAt), status: 'draft' };
}

async function documentInput(c: Container, doc: SubmissionDoc, rep: UserDoc, asked: unknown): Promise<DocumentInput> {
  const version = await c.curricula.version(doc.versionId);
  const form = version.content.forms[doc.formId];
  if (!form) throw new NotFound(`The form '${doc.formId}' is missing from this curriculum version.`);
  const { definition } = version.content;
  const managerId = doc.managerId ?? rep.managerId;
  const manager = managerId ? await c.models.User.findById(managerId).lean<UserDoc>() : null;
  return {
    form,
    ...pickVersion(doc, asked),
    rep: { name: rep.name, email: rep.email },
    manager: manager ? { name: manager.name } : null,
    curriculum: { title: definition.title },
    module: { title: definition.modules.find((m) => m.id === doc.moduleId)?.title ?? doc.moduleId },
    reviewUrl: `${c.config.publicUrl}/reviews/${String(doc._id)}`,
  };
}

export function transferDocumentRoutes(c: Container): RouteDef[] {
  const download = (kind: PdfKind): RouteDef['handler'] => async (req, res) => {
    const { doc, rep } = await visibleSubmission(c, actorOf(req.user!), String(req.params.id), kind);
    const input = await documentInput(c, doc, rep, req.query.version);
    const pdf = await renderPdf(kind, input);
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
