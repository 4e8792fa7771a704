import { Schema, type Connection, type Model } from 'mongoose';
import type { RepSummary } from '../../engine/rep-summary.js';
import type { Locker } from '../../infra/locks.js';
import type { DashboardFilters, DashboardPlan, DashboardRaw } from './trainer.js';

/**
 * `dashboard_cells`: what the trainer dashboard reads. One document per curriculum × version ×
 * cohort × manager, holding one small row per enrollment of that cell, keyed by the enrollment id.
 * `RepSummaries.refresh` writes the rep's row into their cell, and takes it out of the cell they
 * left (a new manager, a new cohort), each with one single-document update under the cell's lock.
 * A request reads the curriculum's cells — a few hundred documents for 10,000 reps — and counts in
 * pure code (`rawFromCells`).
 *
 * Why not aggregation pipelines over `rep_summaries`: FerretDB v1 (the local and CI database)
 * decodes every whole summary for every pipeline, and its `$group` compares each document's key
 * with every group found so far (the dashboard's keys are nearly one per rep), so the five
 * pipelines took 9.6 s at 2,000 reps and grew faster than the reps (bench/dashboard). One read
 * replaces five, and a row is stored as a few scalars and one JSON string (`StoredRow`): FerretDB
 * v1 pays per stored element, and the same rows with their lists and maps as nested documents read
 * 5–7× slower (measured: 2,000 rows, 2.1–3.2 s nested, 0.4–0.5 s so).
 */

/** What the trainer dashboard needs of one enrollment (no names: those are read for the reps listed). */
export interface DashboardRow {
  userId: string;
  startDate: string;
  completed: boolean;
  firstDue: string | null;
  /** the open due dates, only while there is one (the overdue list) */
  openDue?: RepSummary['openDue'];
  transfer: RepSummary['transfer'];
  done: string[];
  started: string[];
  phases: RepSummary['phases'];
  scores: Record<string, number>;
  answered: number;
  correct: number;
  /** the logged on-the-job results, only once there are some */
  activity?: RepSummary['activity'];
}

/** A row as stored: what could be queried as fields, the rest as one JSON string (see the top). */
export interface StoredRow {
  userId: string;
  startDate: string;
  completed: boolean;
  firstDue: string | null;
  /** JSON of the row's other fields */
  detail: string;
}

export function storeRow(r: DashboardRow): StoredRow {
  const { userId, startDate, completed, firstDue, ...detail } = r;
  return { userId, startDate, completed, firstDue, detail: JSON.stringify(detail) };
}

export function readRow(s: StoredRow): DashboardRow {
  return { userId: s.userId, startDate: s.startDate, completed: s.completed, firstDue: s.firstDue, ...(JSON.parse(s.detail) as Omit<DashboardRow, 'userId' | 'startDate' | 'completed' | 'firstDue'>) };
}

export interface CellPlace {
  curriculumId: string;
  versionId: string;
  cohort: string;
  managerId: string | null;
}

export interface DashboardCellDoc extends CellPlace {
  _id: string;
  /** enrollment id → its row */
  reps: Record<string, StoredRow>;
  refreshedAt: Date;
}

const schema = new Schema<DashboardCellDoc>(
  {
    _id: { type: String, required: true },
    curriculumId: { type: String, required: true, index: true },
    versionId: { type: String, required: true },
    cohort: { type: String, default: '' },
    managerId: { type: String, default: null },
    reps: { type: Schema.Types.Mixed, default: {} },
    refreshedAt: { type: Date, required: true },
  },
  { collection: 'dashboard_cells', minimize: false, versionKey: false },
);

export interface CellModels {
  DashboardCell: Model<DashboardCellDoc>;
}

export function cellModels(conn: Connection): CellModels {
  return { DashboardCell: (conn.models.DashboardCell as CellModels['DashboardCell']) ?? conn.model('DashboardCell', schema) };
}

type Placed = Pick<RepSummary, 'curriculumId' | 'versionId' | 'cohort' | 'managerId'>;

export const placeOf = (s: Placed): CellPlace => ({ curriculumId: s.curriculumId, versionId: s.versionId, cohort: s.cohort ?? '', managerId: s.managerId ?? null });

/** The cell's id: its place, spelled out (readable in the database, the same from any process). */
export const cellIdOf = (s: Placed): string => {
  const p = placeOf(s);
  return JSON.stringify([p.curriculumId, p.versionId, p.cohort, p.managerId]);
};

/** A summary's row: what the dashboard counts, and no more. */
export function rowOf(s: Omit<RepSummary, 'readiness'>): DashboardRow {
  const row: DashboardRow = {
    userId: s.userId,
    startDate: s.startDate,
    completed: s.completed,
    firstDue: s.firstDue,
    transfer: s.transfer ?? {},
    done: s.doneModules ?? [],
    started: s.startedModules ?? [],
    phases: s.phases ?? [],
    scores: s.scores ?? {},
    answered: s.retention?.answered ?? 0,
    correct: s.retention?.correct ?? 0,
  };
  if (s.openDue?.length) row.openDue = s.openDue;
  if (s.activity && Object.keys(s.activity).length) row.activity = s.activity;
  return row;
}

/** The cells' query for the filters the database can apply (the start dates are applied to the rows). */
export function cellQuery(f: DashboardFilters): Record<string, unknown> {
  const q: Record<string, unknown> = { curriculumId: f.curriculumId };
  if (f.versionId) q.versionId = f.versionId;
  if (f.cohort !== undefined) q.cohort = f.cohort;
  if (f.managerId) q.managerId = f.managerId;
  return q;
}

/**
 * What the dashboard counts, from the cells: the same answer the earlier aggregation pipelines
 * gave (one entry per rep, `n: 1`), for `shapeDashboard`. `choices` are the places of every cell
 * of the curriculum with reps (`everyCell`; the filtered cells themselves when there is no filter).
 * The overdue list is the reps behind on `today`, most overdue first, capped at `overdueLimit`.
 */
export function rawFromCells(cells: Pick<DashboardCellDoc, keyof CellPlace | 'reps'>[], f: DashboardFilters, today: string, plan: DashboardPlan, opts: { overdueLimit?: number; everyCell?: Pick<DashboardCellDoc, keyof CellPlace>[] } = {}): DashboardRaw {
  const raw: DashboardRaw = { choices: [], status: [], progress: [], outcomes: [], overdue: [], results: [] };
  const placeKey = (p: CellPlace) => ({ versionId: p.versionId, cohort: p.cohort, managerId: p.managerId });
  const places = new Map<string, DashboardRaw['choices'][number]>();
  for (const c of opts.everyCell ?? cells) places.set(cellIdOf(c), { _id: placeKey(placeOf(c)), n: 1 });
  raw.choices = [...places.values()];
  const overdue: (DashboardRaw['overdue'][number] & { firstDue: string })[] = [];
  for (const cell of cells) {
    const place = placeOf(cell);
    if (f.versionId && place.versionId !== f.versionId) continue;
    if (f.cohort !== undefined && place.cohort !== f.cohort) continue;
    if (f.managerId && place.managerId !== f.managerId) continue;
    for (const [id, stored] of Object.entries(cell.reps ?? {})) {
      if ((f.from && stored.startDate < f.from) || (f.to && stored.startDate > f.to)) continue;
      const r = readRow(stored);
      raw.status.push({ _id: { ...placeKey(place), completed: r.completed, firstDue: r.firstDue, transfer: r.transfer }, n: 1 });
      raw.progress.push({ _id: { done: r.done, started: r.started, phases: r.phases }, n: 1 });
      raw.outcomes.push({ _id: { scores: r.scores, answered: r.answered, correct: r.correct }, n: 1 });
      if (!r.completed && r.firstDue !== null && r.firstDue < today) overdue.push({ _id: id, userId: r.userId, managerId: place.managerId, cohort: place.cohort, openDue: r.openDue ?? [], firstDue: r.firstDue });
      if (r.activity && plan.transferModules.some((m) => m in r.activity!)) raw.results.push({ _id: id, userId: r.userId, managerId: place.managerId, cohort: place.cohort, activity: r.activity });
    }
  }
  overdue.sort((a, b) => a.firstDue.localeCompare(b.firstDue) || a._id.localeCompare(b._id));
  raw.overdue = (opts.overdueLimit !== undefined ? overdue.slice(0, opts.overdueLimit) : overdue).map(({ firstDue: _, ...o }) => o);
  raw.results.sort((a, b) => a._id.localeCompare(b._id));
  return raw;
}

/**
 * Keeps the cells: a rep's row into the cell of their summary, out of the cell they were in. Each
 * change is one update of one cell, under that cell's lock (FerretDB v1 loses concurrent updates of
 * one document); a cell left empty is removed, so that its manager or cohort is no longer offered.
 */
export class DashboardCells {
  constructor(
    private readonly m: CellModels,
    private readonly locks: Locker,
  ) {}

  /** Puts the enrollment's row in its cell, and takes it out of the cell it was in (`was`), if another. */
  async put(summary: Omit<RepSummary, 'readiness'>, was: Placed | null, refreshedAt: Date): Promise<void> {
    const id = cellIdOf(summary);
    await this.locks.withLock(`dashboard-cell:${id}`, () =>
      this.m.DashboardCell.updateOne({ _id: id }, { $set: { ...placeOf(summary), [`reps.${summary._id}`]: storeRow(rowOf(summary)), refreshedAt } }, { upsert: true }).exec(),
    );
    if (was && cellIdOf(was) !== id) await this.remove(summary._id, was);
  }

  /** Takes the enrollment's row out of the cell at `was` (and the cell away if it is left empty). */
  async remove(enrollmentId: string, was: Placed): Promise<void> {
    await this.removeFrom(cellIdOf(was), enrollmentId);
  }

  private async removeFrom(id: string, enrollmentId: string): Promise<void> {
    await this.locks.withLock(`dashboard-cell:${id}`, async () => {
      await this.m.DashboardCell.updateOne({ _id: id }, { $unset: { [`reps.${enrollmentId}`]: '' } }).exec();
      await this.m.DashboardCell.deleteOne({ _id: id, reps: {} }).exec();
    });
  }

  /**
   * Takes out every row whose enrollment is not in `keep` (one gone while its summary was missing,
   * a row left by a crash between the two updates of a move): run after every summary is rebuilt.
   */
  async prune(keep: Set<string>): Promise<number> {
    let removed = 0;
    for (const cell of await this.m.DashboardCell.find({}, { reps: 1 }).lean<DashboardCellDoc[]>()) {
      for (const id of Object.keys(cell.reps ?? {})) {
        if (keep.has(id)) continue;
        await this.removeFrom(cell._id, id);
        removed++;
      }
      if (!Object.keys(cell.reps ?? {}).length) await this.m.DashboardCell.deleteOne({ _id: cell._id, reps: {} }).exec();
    }
    return removed;
  }

  /** The filtered cells, and (with a filter) every cell's place: the filters' choices. */
  async read(f: DashboardFilters): Promise<{ cells: DashboardCellDoc[]; everyCell?: CellPlace[] }> {
    const query = cellQuery(f);
    const narrowed = Object.keys(query).length > 1;
    const [cells, everyCell] = await Promise.all([
      this.m.DashboardCell.find(query).lean<DashboardCellDoc[]>(),
      narrowed ? this.m.DashboardCell.find({ curriculumId: f.curriculumId }, { curriculumId: 1, versionId: 1, cohort: 1, managerId: 1 }).lean<CellPlace[]>() : Promise.resolve(undefined),
    ]);
    return { cells, ...(everyCell ? { everyCell } : {}) };
  }
}
