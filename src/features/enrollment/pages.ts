import type { RequestHandler } from 'express';
import multer from 'multer';
import { z } from 'zod';
import type { Container } from '../../container.js';
import { parse } from '../../http/middleware/validate.js';
import { route, type RouteDef } from '../../http/route.js';
import { flash } from '../../http/views.js';
import { renderFormProblem } from '../../http/forms.js';
import { actorOf } from '../accounts/service.js';
import { objectId } from '../accounts/schemas.js';
import { presentRoadmap } from './presenters.js';
import { ROSTER_COLUMNS } from './roster.js';

const upload = multer({ storage: multer.memoryStorage(), limits: { fileSize: 2 * 1024 * 1024, files: 1, fields: 10 } });

/**
 * The roster file from the multipart form. Whatever goes wrong reading it is the upload's fault —
 * too large, too many fields, another field than `file`, a malformed body (multer's and busboy's
 * errors carry no status) — so it is answered 413 or 400 with what was wrong, never a 500.
 */
const readRosterFile: RequestHandler = (req, res, next) =>
  upload.single('file')(req, res, (err?: unknown) => {
    if (!err) return next();
    const e = err as { code?: string; field?: string; message?: string };
    const tooLarge = e.code === 'LIMIT_FILE_SIZE' || e.code === 'LIMIT_FIELD_VALUE';
    const message = tooLarge
      ? 'The file is too large: a roster may be at most 2 MB.'
      : `The upload could not be read (${e.message ?? 'malformed form'}${e.field ? `: ${e.field}` : ''}); send one CSV file in the field "file".`;
    next(Object.assign(new Error(message), { status: tooLarge ? 413 : 400 }));
  });

const enrollInput = z.object({
  userId: objectId,
  curriculumId: z.string().trim().min(1, 'choose a curriculum'),
  cohort: z.string().trim().max(80, 'must be at most 80 characters').optional(),
  startDate: z.string().trim().min(1, 'is required'),
});

const importInput = z.object({
  curriculumId: z.string().trim().min(1, 'choose a curriculum'),
  csv: z.string().max(1_000_000).optional(),
});

const listQuery = z
  .object({
    cohort: z.string().max(80).optional(),
    curriculumId: z.string().max(80).optional(),
  })
  .strict();

/** Trainers enroll reps (one or a CSV roster); managers and trainers follow progress. */
export function enrollmentPageRoutes(c: Container): RouteDef[] {
  const { enrollments, curricula, accounts } = c;

  const formData = async (actor: ReturnType<typeof actorOf>) => ({
    curricula: await curricula.list(actor),
    reps: (await accounts.list(actor, { role: 'rep' })).filter((u) => u.active),
    columns: ROSTER_COLUMNS.join(','),
  });

  return [
    route({
      method: 'get',
      path: '/enrollments',
      kind: 'page',
      access: 'enrollments.list',
      handler: async (req, res) => {
        const actor = actorOf(req.user!);
        const filter = parse(listQuery, req.query, 'query');
        const views = await enrollments.list(actor, { ...(filter.cohort ? { cohort: filter.cohort } : {}), ...(filter.curriculumId ? { curriculumId: filter.curriculumId } : {}) });
        const rows = views.map((v) => ({ ...presentRoadmap(v), rep: v.rep }));
        res.render('enrollments/list', {
          title: req.user!.role === 'manager' ? 'Team progress' : 'Enrollments',
          rows,
          cohorts: (await enrollments.cohorts()).map((x) => ({ value: x, selected: x === filter.cohort })),
          canEnroll: req.user!.role === 'trainer' || req.user!.role === 'admin',
          isManager: req.user!.role === 'manager',
        });
      },
    }),
    route({
      method: 'get',
      path: '/enrollments/new',
      kind: 'page',
      access: 'enrollments.manage',
      handler: async (req, res) => {
        res.render('enrollments/new', { title: 'Enroll reps', ...(await formData(actorOf(req.user!))), values: {} });
      },
    }),
    route({
      method: 'post',
      path: '/enrollments',
      kind: 'page',
      access: 'enrollments.manage',
      handler: async (req, res) => {
        const actor = actorOf(req.user!);
        try {
          const input = parse(enrollInput, req.body);
          const { enrollment, created } = await enrollments.enroll(actor, input);
          flash(req, created ? 'success' : 'info', created ? 'Enrolled.' : 'Already enrolled on this curriculum: nothing changed.');
          res.redirect(303, `/enrollments/${String(enrollment._id)}`);
        } catch (err) {
          renderFormProblem(res, 'enrollments/new', { title: 'Enroll reps', ...(await formData(actor)), values: req.body }, err);
        }
      },
    }),
    route({
      method: 'post',
      path: '/enrollments/import',
      kind: 'page',
      access: 'enrollments.manage',
      before: [readRosterFile],
      handler: async (req, res) => {
        const actor = actorOf(req.user!);
        const input = parse(importInput, req.body);
        const csv = req.file ? req.file.buffer.toString('utf8') : (input.csv ?? '');
        if (!csv.trim()) {
          return res.status(422).render('enrollments/new', { title: 'Enroll reps', ...(await formData(actor)), values: {}, formError: 'Choose a CSV file to import.' });
        }
        const preview = await enrollments.importRoster(actor, input.curriculumId, csv, false);
        res.status(preview.problems.length ? 422 : 200).render('enrollments/import', {
          title: 'Check the roster',
          curriculumId: input.curriculumId,
          csv,
          ...preview,
          ready: !preview.problems.length,
        });
      },
    }),
    route({
      method: 'post',
      path: '/enrollments/import/confirm',
      kind: 'page',
      access: 'enrollments.manage',
      handler: async (req, res) => {
        const input = parse(importInput, req.body);
        const result = await enrollments.importRoster(actorOf(req.user!), input.curriculumId, input.csv ?? '', true);
        res.status(result.problems.length ? 422 : 200).render('enrollments/import', {
          title: result.applied ? 'Roster imported' : 'Check the roster',
          curriculumId: input.curriculumId,
          csv: input.csv,
          ...result,
          ready: !result.problems.length && !result.applied,
        });
      },
    }),
    route({
      method: 'get',
      path: '/enrollments/:id',
      kind: 'page',
      access: 'enrollments.read',
      handler: async (req, res) => {
        const view = await enrollments.view(actorOf(req.user!), String(req.params.id));
        res.render('enrollments/show', { title: `${view.rep.name} — ${view.curriculum.title}`, rep: view.rep, roadmap: presentRoadmap(view) });
      },
    }),
  ];
}
