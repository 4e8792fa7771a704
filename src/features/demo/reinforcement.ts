import { seededRandom, type Banks } from '../../engine/assessment.js';
import type { Logger } from '../../infra/logger.js';
import { LocalLocker } from '../../infra/locks.js';
import type { AccountModels } from '../accounts/model.js';
import type { CurriculumService } from '../curricula/service.js';
import type { EnrollmentDoc, EnrollmentModels } from '../enrollment/model.js';
import type { DeckDoc, DeliveryDoc, ReinforcementModels } from '../reinforcement/model.js';
import { DeliveryScheduler } from '../reinforcement/scheduler.js';
import { ReinforcementService, type ReinforcementListener } from '../reinforcement/service.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * The demo reps' reinforcement history, played through the real service on a clock that walks
 * from each rep's first completed module to now: items enter the deck when the module was done,
 * deliveries come at their slots, and the rep answers a couple of hours later — mostly right at
 * first, less often as the days since learning grow (a forgetting curve), sometimes not at all (so
 * a streak breaks). The newest delivery is left for the rep to answer today.
 *
 * Jobs are not put in Redis here (the services may not run yet): the worker schedules every deck's
 * next delivery when it starts (ReinforcementService.resync).
 */
export async function seedDemoReinforcement(
  deps: { models: ReinforcementModels & AccountModels & EnrollmentModels; curricula: CurriculumService; log: Logger; recorder?: ReinforcementListener },
  now: Date,
): Promise<{ reps: number; deliveries: number; answers: number }> {
  let clock = now;
  const offline = new DeliveryScheduler({ getJob: async () => undefined, add: async () => undefined, addBulk: async () => [] } as never, () => clock);
  const service = new ReinforcementService(deps.models, deps.curricula, offline, new LocalLocker(), deps.log, undefined, () => clock);
  if (deps.recorder) service.listen(deps.recorder);
  const enrollments = await deps.models.Enrollment.find({}).lean<EnrollmentDoc[]>();
  let reps = 0;
  let deliveries = 0;
  let answers = 0;
  for (const enrollment of enrollments) {
    const version = await deps.curricula.version(enrollment.versionId);
    const banks = version.content.banks as unknown as Banks;
    const user = await deps.models.User.findById(enrollment.userId).lean();
    if (!user) continue;
    const userId = String(enrollment.userId);
    const done = enrollment.roadmap.modules.filter((m) => (m.state === 'completed' || m.state === 'tested_out') && m.doneAt).sort((a, b) => a.doneAt!.localeCompare(b.doneAt!));
    if (!done.length) continue;
    const rng = seededRandom(`demo-reinforcement|${user.email}`);
    const skill = 0.75 + rng() * 0.2; // how well this rep remembers
    const event = { enrollmentId: String(enrollment._id), curriculum: version.content.definition, versionId: enrollment.versionId, rep: { id: userId, name: user.name, email: user.email } };
    const pendingModules = [...done];
    for (let guard = 0; guard < 200; guard++) {
      const deck = await deps.models.Deck.findById(userId).lean<DeckDoc>();
      const nextSlot = deck?.nextDeliveryAt ? new Date(deck.nextDeliveryAt).getTime() : Infinity;
      const nextModule = pendingModules.length ? Date.parse(pendingModules[0]!.doneAt!) : Infinity;
      if (Math.min(nextSlot, nextModule) > now.getTime()) break;
      if (nextModule <= nextSlot) {
        clock = new Date(nextModule);
        const m = pendingModules.shift()!;
        await service.addModules(event, [{ moduleId: m.id, at: m.doneAt! }]);
        continue;
      }
      clock = new Date(nextSlot);
      const outcome = await service.deliver(userId);
      if (outcome.status !== 'delivered') continue;
      deliveries++;
      const answerAt = nextSlot + 2 * HOUR;
      // the newest set (waiting for the rep today), and one in eight, stays unanswered
      const newest = outcome.next === null || outcome.next.getTime() > now.getTime();
      if (newest || answerAt > now.getTime() || rng() < 0.125) continue;
      clock = new Date(answerAt);
      const delivery = (await deps.models.Delivery.findById(outcome.deliveryId).lean<DeliveryDoc>())!;
      const learned = new Map((await deps.models.Deck.findById(userId).lean<DeckDoc>())!.items.map((i) => [`${i.curriculumId}|${i.key}`, Date.parse(i.learnedAt)]));
      for (const item of delivery.items) {
        const question = banks[item.drawn.bankId]?.questions.find((q) => q.id === item.drawn.questionId);
        if (!question || question.type === 'scenario' || question.type === 'numeric') continue;
        const days = (answerAt - (learned.get(`${item.curriculumId}|${item.key}`) ?? answerAt)) / DAY;
        const recalls = rng() < skill * Math.exp(-days / 45);
        const right = question.options.findIndex((o) => o.correct);
        const wrong = question.options.findIndex((o) => !o.correct);
        const position = item.drawn.optionOrder.indexOf(recalls ? right : wrong);
        await service.answer({ id: userId, role: 'rep' }, delivery._id, item.key, { [question.id]: [position] });
        answers++;
      }
    }
    reps++;
  }
  clock = now;
  return { reps, deliveries, answers };
}
