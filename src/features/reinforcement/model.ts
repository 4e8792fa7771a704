import { Schema, type Connection, type Model, type Types } from 'mongoose';
import type { Card } from 'ts-fsrs';
import type { DrawnItem } from '../../engine/assessment.js';
import type { RepSchedule } from '../../engine/reinforcement.js';

/**
 * Spaced reinforcement is kept in three collections:
 *
 * - `reinforcement_decks`: one document per rep (its `_id` is the rep's user id): every item with
 *   its FSRS memory state, the rep's delivery settings and when the next delivery is due. The
 *   delivery job in Redis only carries the rep's id; this document is the truth it is rebuilt from.
 * - `reinforcement_deliveries`: one document per delivery, its `_id` derived from the rep and the
 *   planned slot, so delivering a slot twice (a retried or recovered job, two workers) finds the
 *   first one instead of making a second: the idempotency record.
 * - `reinforcement_answers`: one document per answered question (`_id` = delivery + item), the
 *   read model of the retention analytics.
 */

/** One item of a rep's deck (a bank question), with where it came from. */
export interface StoredItem {
  /** `<bank>.<question id>` */
  key: string;
  moduleId: string;
  enrollmentId: string;
  curriculumId: string;
  /** the curriculum version the rep is enrolled on: the question's text comes from it */
  versionId: string;
  /** when the rep completed (or tested out of) the module: day 0 of the forgetting curve */
  learnedAt: string;
  card: Card;
  /** answers, oldest first; `deliveryId` makes applying an answer idempotent */
  history: { at: string; correct: boolean; deliveryId?: string }[];
  retired: boolean;
}

export interface DeckDoc {
  /** the rep's user id */
  _id: Types.ObjectId;
  items: StoredItem[];
  schedule: RepSchedule;
  /** FSRS desired retention and questions per delivery, from the curriculum the items came from */
  retention: number;
  perDelivery: number;
  /** the slot of the next delivery (the delayed job fires then); null: nothing left to ask */
  nextDeliveryAt: Date | null;
  /** the slot of the last delivery: the next one waits for the following day */
  lastDeliveryAt: Date | null;
  rev: number;
  createdAt: Date;
  updatedAt: Date;
}

export const DELIVERY_STATUSES = ['open', 'answered', 'lapsed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface DeliveryItem {
  key: string;
  moduleId: string;
  enrollmentId: string;
  curriculumId: string;
  versionId: string;
  /** how the question is shown (option order), drawn once per delivery */
  drawn: DrawnItem;
  answeredAt: string | null;
  correct: boolean | null;
  credit: number | null;
  /** per answered part (a scenario has several): choice → the bank's original option indexes; numeric → the number */
  chosen: Record<string, number[] | number | null> | null;
  channel: 'in-app' | 'email' | null;
}

export interface DeliveryDoc {
  /** `<user id>-<slot in ms>` */
  _id: string;
  userId: Types.ObjectId;
  slot: Date;
  deliveredAt: Date;
  items: DeliveryItem[];
  status: DeliveryStatus;
  /** the email's dedupe key, once it is queued */
  emailKey: string | null;
}

export interface AnswerDoc {
  /** `<delivery id>/<item key>` */
  _id: string;
  userId: Types.ObjectId;
  managerId: Types.ObjectId | null;
  cohort: string;
  curriculumId: string;
  versionId: string;
  moduleId: string;
  key: string;
  deliveryId: string;
  correct: boolean;
  at: Date;
  learnedAt: Date;
  /** whole days from learning to answering: the forgetting curve's x */
  daysSinceLearned: number;
}

const deckSchema = new Schema<DeckDoc>(
  {
    _id: { type: Schema.Types.ObjectId, required: true },
    items: { type: Schema.Types.Mixed, default: [] },
    schedule: { type: Schema.Types.Mixed, required: true },
    retention: { type: Number, required: true },
    perDelivery: { type: Number, required: true },
    nextDeliveryAt: { type: Date, default: null, index: true },
    lastDeliveryAt: { type: Date, default: null },
    rev: { type: Number, default: 0 },
  },
  { collection: 'reinforcement_decks', timestamps: true, minimize: false, versionKey: false },
);

const deliverySchema = new Schema<DeliveryDoc>(
  {
    _id: { type: String, required: true },
    userId: { type: Schema.Types.ObjectId, required: true, index: true },
    slot: { type: Date, required: true },
    deliveredAt: { type: Date, required: true },
    items: { type: Schema.Types.Mixed, required: true },
    status: { type: String, enum: DELIVERY_STATUSES, required: true },
    emailKey: { type: String, default: null },
  },
  { collection: 'reinforcement_deliveries', minimize: false, versionKey: false },
);

const answerSchema = new Schema<AnswerDoc>(
  {
    _id: { type: String, required: true },
    userId: { type: Schema.Types.ObjectId, required: true, index: true },
    managerId: { type: Schema.Types.ObjectId, default: null },
    cohort: { type: String, default: '' },
    curriculumId: { type: String, required: true, index: true },
    versionId: { type: String, required: true },
    moduleId: { type: String, required: true },
    key: { type: String, required: true },
    deliveryId: { type: String, required: true },
    correct: { type: Boolean, required: true },
    at: { type: Date, required: true },
    learnedAt: { type: Date, required: true },
    daysSinceLearned: { type: Number, required: true },
  },
  { collection: 'reinforcement_answers', versionKey: false },
);

export interface ReinforcementModels {
  Deck: Model<DeckDoc>;
  Delivery: Model<DeliveryDoc>;
  Answer: Model<AnswerDoc>;
}

export function reinforcementModels(conn: Connection): ReinforcementModels {
  return {
    Deck: (conn.models.ReinforcementDeck as Model<DeckDoc>) ?? conn.model('ReinforcementDeck', deckSchema),
    Delivery: (conn.models.ReinforcementDelivery as Model<DeliveryDoc>) ?? conn.model('ReinforcementDelivery', deliverySchema),
    Answer: (conn.models.ReinforcementAnswer as Model<AnswerDoc>) ?? conn.model('ReinforcementAnswer', answerSchema),
  };
}
