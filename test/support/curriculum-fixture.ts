import type { Container } from '../../src/container.js';
import { ReinforcementService } from '../../src/features/reinforcement/service.js';
import { DeliveryScheduler } from '../../src/features/reinforcement/scheduler.js';
import { LocalLocker } from '../../src/infra/locks.js';
import type { ProgressFacts } from '../../src/engine/curriculum.js';
import type { SourceFile } from '../../src/content/validate.js';

/** A small valid curriculum folder in memory: edit one file to break it. */
export function fixtureFiles(overrides: Record<string, string | null> = {}): SourceFile[] {
  const files: Record<string, string> = {
    'demo/curriculum.yaml': `id: demo
title: Demo onboarding
description: A three-module curriculum for tests.
masteryThreshold: 80
phases:
  - id: basics
    title: Basics
    targetDay: 10
`,
    'demo/modules/01-intro.md': `---
id: intro
title: Introduction
phase: basics
modality: elearning
minutes: 10
objectives:
  - Know the product
dueDay: 3
---
# Welcome

Read this.
`,
    'demo/modules/02-check.md': `---
id: check
title: Basics check
phase: basics
modality: assessment
minutes: 15
prerequisites:
  all: [intro]
assessment:
  purpose: check
  pools:
    - bank: basics
      draw: 2
---
Two questions on the introduction.
`,
    'demo/modules/03-script.md': `---
id: script
title: Build your script
phase: basics
modality: transfer
minutes: 60
prerequisites: [check]
mastery:
  - assessment: check
form: script
---
Build it, print it, meet your manager.
`,
    'demo/banks/basics.yaml': `id: basics
title: Basics bank
questions:
  - id: q1
    type: single
    module: intro
    reinforcement: true
    prompt: Which is right?
    options:
      - text: This one
        correct: true
      - text: That one
  - id: q2
    type: truefalse
    prompt: True?
    options:
      - text: "True"
        correct: true
      - text: "False"
`,
    'demo/forms/script.yaml': `id: script
title: Call script
steps:
  - id: opening
    title: Opening
    fields:
      - id: opening
        label: Your opening
        type: longText
`,
  };
  for (const [path, text] of Object.entries(overrides)) {
    if (text === null) delete files[path];
    else files[path] = text;
  }
  return Object.entries(files).map(([path, text]) => ({ path, text }));
}

/** The fixture's transfer module opened for an enrollment: the lesson done and the check passed. */
export async function unlockTransfer(enrollments: { applyEvent: (id: string, change: (facts: ProgressFacts) => ProgressFacts | null) => Promise<unknown> }, enrollmentId: string): Promise<void> {
  const at = new Date().toISOString();
  await enrollments.applyEvent(enrollmentId, (facts) => ({ ...facts, completed: { ...facts.completed, intro: at }, scores: { ...facts.scores, check: { best: 100, at } } }));
}

/**
 * Delivers a rep's due reinforcement questions as the worker would, `days` from now (their first
 * question comes the day after the module): returns the delivery's id.
 */
export async function deliverLater(c: Container, userId: string, days = 3): Promise<string> {
  const later = () => new Date(Date.now() + days * 86_400_000);
  const worker = new ReinforcementService(c.models, c.curricula, new DeliveryScheduler(c.queue, later), new LocalLocker(), c.log, undefined, later);
  const outcome = await worker.deliver(userId);
  if (outcome.status !== 'delivered') throw new Error(`Nothing was delivered to ${userId}: ${outcome.status}`);
  return outcome.deliveryId;
}
