/**
 * The sample transfer activity (content/…/forms/appointment-script.yaml) with a rep's realistic
 * answers, including the awkward ones: a very long unbroken string, multi-line text, a list, and an
 * answer that starts with "# " (it must stay text). Shared by the document tests and bench/pdf.
 */
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { formFile } from '../../src/content/schema.js';
import type { Answers, DocumentInput } from '../../src/features/transfer/documents.js';

export const SAMPLE_FORM = formFile.parse(
  YAML.parse(readFileSync(new URL('../../content/curricula/new-rep-onboarding/forms/appointment-script.yaml', import.meta.url), 'utf8')),
);

export const LONG_TOKEN = `https://crm.example.com/accounts/harbor-mechanical/${'opportunity-notes-'.repeat(9)}end`;

export const SAMPLE_ANSWERS: Answers = {
  persona: 'VP or Director of Field Operations',
  trigger: 'Harbor Mechanical posted two dispatcher jobs last week and signed the county hospital maintenance contract.',
  likelyPro:
    'Keeping response-time commitments on the new hospital contract while the schedule lives in Brenda\'s head.\nImpact: SLA penalties of roughly $4,000 a month and overtime for second visits.',
  opening:
    '# Hi Dana, it\'s Sam Lee from Crewline.\nI saw Harbor is hiring two more dispatchers, and that\'s usually when operations leaders call us.\nCan I take 30 seconds to tell you why I called, and you can decide if it\'s worth continuing?',
  valueStatement:
    'I work with operations leaders at mechanical contractors. Most of them tell me their hardest job is keeping response-time commitments on big contracts when the schedule lives in one or two dispatchers\' heads. Northgate Mechanical was in that spot; they raised their first-time fix rate from 71% to 84% in six months.',
  proof: 'Northgate Mechanical: first-time fix rate from 71% to 84% in six months',
  questions: [
    "How are you building tomorrow's schedule today?",
    'When a job needs a second visit, how often does that happen, and who absorbs the cost?',
    'How are you tracking against your response-time commitments on the hospital contract?',
    'If your senior dispatcher were out for two weeks, what would Monday morning look like?',
    '## What would it be worth to cut second visits in half?',
  ],
  meetingType: '30-minute discovery call',
  ask: 'It sounds worth a proper look. I\'d suggest 30 minutes on how your schedule gets built today and what it costs you. Does Tuesday at 10 or Thursday at 2 work better? And should Marco join, since he runs the desk?',
  notLooking:
    "That's fair — most people I call aren't actively looking. Is that because scheduling is working well, or because there's no time to look at it? Northgate wasn't looking either until their hospital contract came up for renewal. Would 30 minutes on Thursday be worth it?",
  haveSystem:
    'That makes sense; a lot of our customers did too. How well does it handle skills and parts when a technician gets pulled onto an emergency? We sit on top of the ERP rather than replacing it. Would Thursday at 2 work?',
  sendInfo: `Happy to. So I send something useful rather than a brochure, is it the SLA side or the dispatcher workload that matters more? I'll send the Summit case study today: ${LONG_TOKEN}`,
  noBudget:
    'Understood; budgets are set in cycles. When does your next planning round start? Many teams use a first meeting to put numbers on the problem so they\'re ready when it does. Would that be useful?',
  otherConcern: '',
  voicemail: 'Dana, Sam Lee at Crewline, 555-0142. Operations leaders tell me keeping response windows on the big contracts is the hardest part of the job right now. Again, Sam Lee, 555-0142.',
  email:
    'Subject: Response windows on the hospital contract\n\nDana, operations leaders tell me the hardest part of a big contract is keeping response windows.\nNorthgate raised first-time fix from 71% to 84%.\nWould Tuesday at 10 work for 30 minutes?\n@link https://evil.example.com\n---notes 30',
};

export const SAMPLE_INPUT: DocumentInput = {
  form: SAMPLE_FORM,
  answers: SAMPLE_ANSWERS,
  rep: { name: 'Riley Chen', email: 'rep1@demo.onramp.dev' },
  manager: { name: 'Morgan Diaz' },
  curriculum: { title: 'New rep onboarding' },
  module: { title: 'Appointment setting on the job' },
  version: 2,
  submittedAt: new Date('2027-02-03T15:30:00Z'),
  reviewUrl: 'https://onramp.example.com/reviews/6512bd43d9caa6e02c990b0a?tab=script&version=2',
  status: 'submitted',
};
