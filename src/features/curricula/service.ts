import type { CurriculumContent } from '../../content/validate.js';
import { contentHash, describeChanges } from '../../content/version.js';
import { requireAccess, type Actor } from '../../engine/access.js';
import type { PackageSource } from '../../xapi/cmi5/package.js';
import { NotFound } from '../../errors.js';
import type { AuditLog } from '../audit/service.js';
import type { CurriculumDoc, CurriculumModels, CurriculumVersionDoc } from './model.js';

export interface PublishResult {
  status: 'published' | 'unchanged';
  versionId: string;
  changes: string[];
}

export function versionIdOf(curriculumId: string, hash: string): string {
  return `${curriculumId}@${hash.slice(0, 12)}`;
}

export class CurriculumService {
  /** versions never change once published, so each process may keep the ones it read */
  private readonly cache = new Map<string, CurriculumVersionDoc>();

  constructor(
    private readonly m: CurriculumModels,
    /** each publish is recorded before it is made */
    private readonly audit: AuditLog,
    /** where cmi5 packages' files go (by content hash) when a version that has them is published */
    private readonly packages?: { putPackage(p: PackageSource): Promise<string> },
  ) {}

  /**
   * Stores the content as an immutable version unless it equals the current one. The version is
   * written before it becomes current, so a crash in between leaves the old version current and a
   * retry completes the publish.
   */
  async publish(actor: Actor | 'cli', content: CurriculumContent, packages: PackageSource[] = []): Promise<PublishResult> {
    if (actor !== 'cli') requireAccess(actor, 'curricula.publish');
    const id = content.definition.id;
    const hash = contentHash(content);
    const versionId = versionIdOf(id, hash);
    const current = await this.m.Curriculum.findById(id).lean<CurriculumDoc>();
    if (current?.latestHash === hash) return { status: 'unchanged', versionId, changes: [] };
    // the packages' files first: a version never points at a package that is not stored
    if (packages.length && !this.packages) throw new Error('This curriculum has cmi5 packages but no package store was given.');
    for (const p of packages) await this.packages!.putPackage(p);

    const previous = current ? await this.m.CurriculumVersion.findById(current.latestVersionId).lean<CurriculumVersionDoc>() : null;
    const changes = describeChanges(previous?.content, content);
    const now = new Date();
    const detail = { versionId, previousVersionId: current?.latestVersionId ?? null, changes: changes.length };
    await this.audit.recordThen(actor, 'curriculum.publish', { type: 'curriculum', id }, detail, async () => {
      await this.m.CurriculumVersion.updateOne(
        { _id: versionId },
        {
          $setOnInsert: {
            curriculumId: id,
            hash,
            title: content.definition.title,
            publishedAt: now,
            publishedBy: actor === 'cli' ? 'cli' : actor.id,
            previousVersionId: current?.latestVersionId ?? null,
            changes,
            content,
          },
        },
        { upsert: true },
      );
      const versionCount = await this.m.CurriculumVersion.countDocuments({ curriculumId: id });
      await this.m.Curriculum.updateOne(
        { _id: id },
        { $set: { title: content.definition.title, latestVersionId: versionId, latestHash: hash, publishedAt: now, versionCount } },
        { upsert: true },
      );
    });
    return { status: 'published', versionId, changes };
  }

  async list(actor: Actor): Promise<CurriculumDoc[]> {
    requireAccess(actor, 'curricula.read');
    return this.m.Curriculum.find().sort({ title: 1 }).lean<CurriculumDoc[]>();
  }

  async versions(actor: Actor, curriculumId: string): Promise<Omit<CurriculumVersionDoc, 'content'>[]> {
    requireAccess(actor, 'curricula.read');
    const docs = await this.m.CurriculumVersion.find({ curriculumId }, { content: 0 }).sort({ publishedAt: -1 }).lean<CurriculumVersionDoc[]>();
    if (!docs.length) throw new NotFound(`No curriculum '${curriculumId}' has been published.`);
    return docs;
  }

  /** A version's content, for the engine and pages (no access check: callers decide who sees what). */
  async version(versionId: string): Promise<CurriculumVersionDoc> {
    const cached = this.cache.get(versionId);
    if (cached) return cached;
    const doc = await this.m.CurriculumVersion.findById(versionId).lean<CurriculumVersionDoc>();
    if (!doc) throw new NotFound(`No curriculum version '${versionId}'.`);
    if (this.cache.size >= 50) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(versionId, doc);
    return doc;
  }

  async latest(curriculumId: string): Promise<CurriculumDoc> {
    const doc = await this.m.Curriculum.findById(curriculumId).lean<CurriculumDoc>();
    if (!doc) throw new NotFound(`No curriculum '${curriculumId}' has been published.`);
    return doc;
  }
}
