import type { ObjectiveReadiness, Readiness } from '../../engine/readiness.js';
import type { ReadinessData } from './coaching.js';

/**
 * The readiness score with its working: per objective every input with its evidence, value,
 * weight and the points it adds; missing evidence listed as left out; and the sums written out
 * with the rep's own numbers, so anyone can redo them by hand. Pure.
 */

/** 78.2857 → "78.29", 40 → "40", 52.9 → "52.9" */
export function figure(n: number): string {
  return String(Math.round(n * 100) / 100);
}

function objectiveView(o: ObjectiveReadiness) {
  const counted = o.inputs.filter((i) => i.value !== null && i.weight > 0);
  const weighted = o.inputs.filter((i) => i.weight > 0);
  const rows = o.inputs.map((i) => {
    const baseline = i.weight === 0;
    const missing = !baseline && i.value === null;
    return {
      kind: i.kind,
      label: i.label,
      detail: i.detail,
      valueText: i.value === null ? 'not yet' : `${figure(i.value)}%`,
      weight: i.weight,
      contributionText: i.contribution === null ? '—' : i.contribution.toFixed(2),
      counted: !baseline && !missing,
      baseline,
      missing,
      note: baseline ? 'baseline (weight 0): shows growth, not counted' : missing ? 'not yet — left out' : 'counted',
    };
  });
  const sumWeights = counted.reduce((s, i) => s + i.weight, 0);
  const sumProducts = counted.reduce((s, i) => s + i.value! * i.weight, 0);
  const allWeights = weighted.reduce((s, i) => s + i.weight, 0);
  const working = counted.length
    ? `= (${counted.map((i) => `${figure(i.value!)} × ${i.weight}`).join(' + ')}) ÷ (${counted.map((i) => i.weight).join(' + ')}) = ${figure(sumProducts)} ÷ ${sumWeights} = ${figure(sumProducts / sumWeights)} → ${o.score}`
    : 'no input with a weight has evidence yet: no score for this objective';
  const pre = o.inputs.find((i) => i.kind === 'pretest');
  const post = o.inputs.find((i) => i.kind === 'posttest');
  const growthText =
    o.growth !== null
      ? `${o.growth > 0 ? '+' : ''}${figure(o.growth)} points (pre-test ${figure(pre!.value!)}% → post-test ${figure(post!.value!)}%)`
      : !pre || !post
        ? 'needs a pre-test and a post-test on this objective'
        : 'not yet: needs both scores';
  return {
    id: o.id,
    title: o.title,
    score: o.score,
    scoreText: o.score === null ? 'no score yet' : String(o.score),
    coverage: o.coverage,
    coverageText: `${o.coverage}% of this objective's weight has evidence (${sumWeights} of ${allWeights})`,
    growth: o.growth,
    growthText,
    rows,
    leftOut: rows.filter((r) => r.missing).map((r) => `${r.label} (weight ${r.weight})`),
    working,
    contributionsTotal: counted.length ? rows.reduce((s, r) => s + (r.counted ? Number(r.contributionText) : 0), 0).toFixed(2) : null,
  };
}

export function readinessWorking(r: Readiness) {
  const objectives = r.objectives.map(objectiveView);
  const scored = objectives.filter((o) => o.score !== null);
  const mean = scored.length ? scored.reduce((s, o) => s + o.score!, 0) / scored.length : null;
  return {
    score: r.score,
    scoreText: r.score === null ? 'no score yet' : String(r.score),
    overallWorking:
      mean === null
        ? 'no objective has a score yet'
        : `= (${scored.map((o) => o.score).join(' + ')}) ÷ ${scored.length} = ${figure(mean)} → ${r.score}`,
    unscored: objectives.filter((o) => o.score === null).map((o) => o.title),
    objectives,
  };
}

export function presentReadiness(data: ReadinessData) {
  return {
    person: { id: data.person.id, name: data.person.name },
    enrollments: data.summaries.map((s) => ({
      enrollmentId: s._id,
      curriculumTitle: data.curricula.get(s.versionId)?.title ?? s.curriculumId,
      versionId: s.versionId,
      refreshedAt: new Date(s.refreshedAt).toISOString(),
      set: s.readiness !== null,
      ...(s.readiness ? readinessWorking(s.readiness) : {}),
    })),
  };
}

/** The JSON variant: the stored figures as they are, per enrollment. */
export function readinessJson(data: ReadinessData) {
  return {
    person: { id: data.person.id, name: data.person.name },
    enrollments: data.summaries.map((s) => ({
      enrollmentId: s._id,
      curriculumId: s.curriculumId,
      curriculumTitle: data.curricula.get(s.versionId)?.title ?? s.curriculumId,
      versionId: s.versionId,
      refreshedAt: new Date(s.refreshedAt).toISOString(),
      readiness: s.readiness,
    })),
  };
}
