import type { EnrollmentView } from '../enrollment/service.js';
import type { Answers } from './answers.js';

/** A transfer event, told to listeners (the xAPI recorder) after it is saved. */
export interface TransferEvent {
  view: EnrollmentView;
  moduleId: string;
  form: { id: string; title: string };
  submissionId: string;
  at: string;
}

export interface Person {
  id: string;
  name: string;
  email?: string;
}

export interface TransferListener {
  submitted(e: TransferEvent & { version: number; manager: Person | null }): Promise<void>;
  /** `pdf`: the approved version's PDF as kept with the submission */
  reviewed(e: TransferEvent & { decision: 'approved' | 'returned'; version: number; submittedVersion: number; manager: Person; comment: string; adjusted: boolean; pdf?: { content: Buffer; sha2: string } }): Promise<void>;
  resultsLogged(e: TransferEvent & { results: Answers; manager: Person | null }): Promise<void>;
}

/** Listener bookkeeping shared by the rep's and the manager's services. */
export class TransferListeners {
  private readonly listeners: TransferListener[] = [];

  listen(l: TransferListener): void {
    this.listeners.push(l);
  }

  async tell(fn: (l: TransferListener) => Promise<void>): Promise<void> {
    for (const l of this.listeners) await fn(l);
  }
}
