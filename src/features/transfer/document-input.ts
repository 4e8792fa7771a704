import type { Model } from 'mongoose';
import { NotFound } from '../../errors.js';
import type { UserDoc } from '../accounts/model.js';
import type { CurriculumService } from '../curricula/service.js';
import type { DocumentInput } from './documents.js';
import type { SubmissionDoc } from './model.js';

export interface DocumentDeps {
  curricula: CurriculumService;
  users: Model<UserDoc>;
  publicUrl: string;
}

/** Which version: ?version=N (a submitted one), else the latest submitted version, else the draft. */
export function pickVersion(doc: SubmissionDoc, asked: unknown): Pick<DocumentInput, 'answers' | 'version' | 'submittedAt' | 'status'> {
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

/** What the PDFs show for one version of a submission. */
export async function documentInput(deps: DocumentDeps, doc: SubmissionDoc, rep: UserDoc, asked: unknown): Promise<DocumentInput> {
  const version = await deps.curricula.version(doc.versionId);
  const form = version.content.forms[doc.formId];
  if (!form) throw new NotFound(`The form '${doc.formId}' is missing from this curriculum version.`);
  const { definition } = version.content;
  const managerId = doc.managerId ?? rep.managerId;
  const manager = managerId ? await deps.users.findById(managerId).lean<UserDoc>() : null;
  return {
    form,
    ...pickVersion(doc, asked),
    rep: { name: rep.name, email: rep.email },
    manager: manager ? { name: manager.name } : null,
    curriculum: { title: definition.title },
    module: { title: definition.modules.find((m) => m.id === doc.moduleId)?.title ?? doc.moduleId },
    reviewUrl: `${deps.publicUrl}/reviews/${String(doc._id)}`,
  };
}

