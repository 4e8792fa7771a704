import { EVIDENCE, type CurriculumDef, type Evidence, type ReadinessObjective } from './curriculum.js';

/**
 * The readiness score, with its working shown. Per objective (from the curriculum), each link of the
 * chain — pre-test → post-test → re-test → retention → on-the-job results — gives a percentage when
 * there is evidence for it; the objective's score is the weighted mean of the links that have
 * evidence (missing evidence is left out and shown as missing, never counted as 0), and the rep's
 * score is the mean of their objectives' scores. Pure: the caller gathers the evidence.
 */

export interface ReadinessEvidence {
  /** assessment module → the best percentage so far */
  scores: Record<string, number>;
  /** module → the rep's reinforcement answers about it */
  retention: Record<string, { answered: number; correct: number }>;
  /** transfer module → the logged activity (field → number), its targets, and whether the manager confirmed it */
  results: Record<string, { values: Record<string, number>; targets: Record<string, number>; confirmed: boolean }>;
}

export interface ReadinessInput {
  kind: Evidence;
  /** what the evidence is, in words: "Post-test: Foundations check" */
  label: string;
  /** 0–100, or null when there is no evidence yet */
  value: number | null;
  weight: number;
  /**
   * the points this input adds to the objective's score (value × weight ÷ the weights with evidence),
   * to two decimals so that the column adds up to the score shown (one decimal)
   */
  contribution: number | null;
  /** where the number comes from: "best attempt 85%", "7 of 9 answers right", "6 of 8 appointments (unconfirmed)" */
  detail: string;
}

export interface ObjectiveReadiness {
  id: string;
  title: string;
  /** 0–100, one decimal; null while no weighted input has evidence */
  score: number | null;
  /** 0–100: the share of the objective's weight that has evidence */
  coverage: number;
  /** post-test minus pre-test, in points, when both are there */
  growth: number | null;
  inputs: ReadinessInput[];
}

export interface Readiness {
  /** 0–100, one decimal: the mean of the objectives that have a score; null when none has */
  score: number | null;
  objectives: ObjectiveReadiness[];
}

const LABELS: Record<Evidence, string> = { pretest: 'Pre-test', posttest: 'Post-test', retest: 'Re-test', retention: 'Retention', results: 'On-the-job results' };

const round1 = (n: number) => Math.round(n * 10) / 10;
const round2 = (n: number) => Math.round(n * 100) / 100;

export function computeReadiness(def: Pick<CurriculumDef, 'modules' | 'readiness'>, evidence: ReadinessEvidence): Readiness | null {
  if (!def.readiness) return null;
  const title = (moduleId: string) => def.modules.find((m) => m.id === moduleId)?.title ?? moduleId;
  const objectives = def.readiness.objectives.map((o) => objective(o, evidence, title));
  const scored = objectives.filter((o) => o.score !== null);
  return { score: scored.length ? round1(scored.reduce((s, o) => s + o.score!, 0) / scored.length) : null, objectives };
}

function objective(o: ReadinessObjective, ev: ReadinessEvidence, title: (id: string) => string): ObjectiveReadiness {
  const inputs: ReadinessInput[] = [];
  for (const kind of EVIDENCE) {
    const weight = o.weights[kind] ?? 0;
    const found = evidenceFor(kind, o, ev, title);
    if (!found) continue;
    inputs.push({ kind, label: found.label, value: found.value, weight, contribution: null, detail: found.detail });
  }
  const counted = inputs.filter((i) => i.value !== null && i.weight > 0);
  const withEvidence = counted.reduce((s, i) => s + i.weight, 0);
  const total = inputs.reduce((s, i) => s + i.weight, 0);
  for (const i of counted) i.contribution = round2((i.value! * i.weight) / withEvidence);
  const pre = inputs.find((i) => i.kind === 'pretest')?.value ?? null;
  const post = inputs.find((i) => i.kind === 'posttest')?.value ?? null;
  return {
    id: o.id,
    title: o.title,
    score: withEvidence > 0 ? round1(counted.reduce((s, i) => s + i.value! * i.weight, 0) / withEvidence) : null,
    coverage: total > 0 ? Math.round((withEvidence / total) * 100) : 0,
    growth: pre !== null && post !== null ? round1(post - pre) : null,
    inputs,
  };
}

function evidenceFor(kind: Evidence, o: ReadinessObjective, ev: ReadinessEvidence, title: (id: string) => string): { label: string; value: number | null; detail: string } | null {
  switch (kind) {
    case 'pretest':
    case 'posttest':
    case 'retest': {
      const moduleId = o[kind];
      if (!moduleId) return null;
      const best = ev.scores[moduleId];
      return { label: `${LABELS[kind]}: ${title(moduleId)}`, value: best ?? null, detail: best === undefined ? 'not taken yet' : `best attempt ${best}%` };
    }
    case 'retention': {
      if (!o.retention.length) return null;
      const answered = o.retention.reduce((s, m) => s + (ev.retention[m]?.answered ?? 0), 0);
      const correct = o.retention.reduce((s, m) => s + (ev.retention[m]?.correct ?? 0), 0);
      return {
        label: `${LABELS.retention}: ${o.retention.map(title).join(', ')}`,
        value: answered ? round1((correct / answered) * 100) : null,
        detail: answered ? `${correct} of ${answered} reinforcement answers right` : 'no reinforcement answers yet',
      };
    }
    case 'results': {
      if (!o.results) return null;
      const r = ev.results[o.results.module];
      const target = r?.targets[o.results.field];
      const value = r?.values[o.results.field];
      const label = `${LABELS.results}: ${o.results.field} (${title(o.results.module)})`;
      if (!r || value === undefined || !target) return { label, value: null, detail: 'not logged yet' };
      return { label, value: round1(Math.min(100, (value / target) * 100)), detail: `${value} of ${target} ${o.results.field}${r.confirmed ? '' : ' (not confirmed by the manager yet)'}` };
    }
  }
}
