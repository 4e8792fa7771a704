import { Types } from 'mongoose';
import { addBusinessDays, type Answers } from '../transfer/answers.js';
import type { SubmissionDoc, SubmissionModels } from '../transfer/model.js';

/** The sample transfer activity: its module and form (content/curricula/new-rep-onboarding). */
export const DEMO_SCRIPT_MODULE = 'appointment-script';
const FORM_ID = 'appointment-script';
/** the form's review.dueBusinessDays */
const REVIEW_DAYS = 3;

/** Jordan Blake (rep3), three weeks in: a complete first script, waiting for Morgan's review. */
const REP3_SCRIPT: Answers = {
  persona: 'Service or Dispatch Manager',
  trigger: 'Lakeshore Fire Protection just won the county schools inspection contract and posted a dispatcher opening on their careers page.',
  likelyPro:
    'Building next week\'s inspection schedule by hand for 40+ school sites while keeping the county\'s 48-hour response window.\nImpact: missed windows mean contract penalties, and their dispatch manager is probably spending every Friday afternoon rebuilding the board.',
  opening:
    "Hi Chris, this is Jordan Blake with Crewline. I saw Lakeshore picked up the county schools inspection contract — congratulations. That's usually when service managers start talking to us. Could I take 30 seconds to tell you why I called, and you can tell me if it's worth a conversation?",
  valueStatement:
    "I work with service managers at inspection and life-safety companies. What I keep hearing is that a big new contract turns scheduling into a second full-time job, especially when there's a response window attached. Summit Lab Services was there last year: their dispatch team now builds the next day's schedule in about 20 minutes, and their SLA compliance went from 88% to 97%.",
  proof: 'Summit Lab Services: SLA compliance from 88% to 97%, schedule built in about 20 minutes a day, within six months',
  questions: [
    'How are you putting together the inspection schedule for the schools contract today?',
    "When a technician calls in sick on a day with school visits, what happens to the rest of that day's jobs?",
    "How often did you miss a response window last quarter, and what did that cost you under the contract?",
    'Who besides you gets pulled in when the schedule falls apart?',
    'If you could hand back one afternoon a week, what would you spend it on?',
  ],
  meetingType: '30-minute discovery call',
  ask: "From what you're describing, it's probably worth a proper look. I'd suggest 30 minutes where we walk through how the schools schedule gets built today and what a missed window costs you — and you decide if there's anything there. Would Tuesday at 9:30 or Wednesday at 2 work better? And should your lead dispatcher join, since she builds the board?",
  notLooking:
    "Totally fair — most people I call aren't looking for anything. Can I ask, is that because the schedule is working fine right now, or because nobody has time to look at it with the new contract starting? Summit wasn't looking either until they started missing windows. Would 30 minutes on Wednesday be worth it just to put a number on it?",
  haveSystem:
    "That makes sense, most of our customers already had something. How does it handle it when an inspection needs a certified tech and that tech gets pulled onto an emergency call? We work on top of the system you have instead of replacing it — Summit kept theirs and was live in six weeks. Would Tuesday at 9:30 work to see if there's a gap worth closing?",
  sendInfo:
    "Happy to. So I don't just send you a brochure — is the response window or your dispatcher's workload the bigger headache right now? … Got it, I'll send the Summit case study this afternoon. Can we grab 20 minutes Thursday to go through it against your numbers?",
  noBudget:
    "Understood, budgets run in cycles. When does your next planning round start, and what would have to be true for something like this to get funded? A lot of teams use a first call just to put numbers on the problem so they're ready when it does. Would that be useful for you?",
  otherConcern:
    '"We\'re too busy getting the new contract started." — "That\'s exactly why I called now — the first month of a contract is when the schedule is hardest to change. What\'s the one part of the rollout you\'re most worried about? … Summit used the first weeks of their contract to set this up so they didn\'t have to fix it later. Would a short call next Tuesday at 9:30 fit around the rollout?"',
  voicemail:
    "Hi Chris, Jordan Blake at Crewline, 555-0187. Service managers tell me the first month of a big inspection contract is when the schedule is hardest to keep. Summit Lab Services got their SLA compliance to 97%. I'll send you a short email too. Again, Jordan Blake, 555-0187.",
  email:
    'Subject: The schools contract and your 48-hour windows\n\nChris, congratulations on the county schools contract.\nService managers tell me a new contract with a response window turns scheduling into a second job; Summit Lab Services now builds theirs in about 20 minutes and hit 97% SLA compliance.\nWould Tuesday at 9:30 or Wednesday at 2 work for 30 minutes to see if that applies to you?\n\nJordan Blake, Crewline, 555-0187',
};

/** Avery Kim (rep4): the first version, returned for a softer opening. */
const REP4_FIRST: Answers = {
  persona: 'VP or Director of Field Operations',
  trigger: 'Redline HVAC opened a second branch in Aurora and is hiring 15 technicians this quarter.',
  likelyPro:
    'Keeping first-time fix rates up while onboarding a lot of new technicians across two branches.\nImpact: second visits cost them a truck roll each (about $180) and hurt renewals on their maintenance agreements.',
  opening: "Hi Pat, how are you today? This is Avery from Crewline. Did I catch you at a bad time? I wanted to tell you about our scheduling platform.",
  valueStatement:
    "I talk with operations leaders at HVAC contractors who are growing fast. The thing I hear most is that new technicians get sent to jobs they aren't ready for, so the second visit eats the margin. Northgate Mechanical was dealing with that, and they raised their first-time fix rate from 71% to 84% in six months.",
  proof: 'Northgate Mechanical: first-time fix rate from 71% to 84% in six months',
  questions: [
    'How do you decide which technician goes to which job when you have new hires on the team?',
    'How often does a job need a second visit right now, and who absorbs that cost?',
    "How are the two branches sharing technicians today?",
    'What happens to your maintenance-agreement renewals when a customer gets a second visit?',
  ],
  meetingType: '45-minute discovery meeting with the operations team',
  ask: "It sounds like it's worth a closer look. I'd suggest 45 minutes with you and your dispatch leads to look at how jobs get assigned across both branches and what second visits cost you today. Would Monday at 11 or Wednesday at 3 work better? And should your Aurora branch manager join too?",
  notLooking:
    "That's fair, most people I call aren't looking. Is that because dispatch is running smoothly, or because opening Aurora is taking all the oxygen? Northgate wasn't looking either until second visits started showing up in their renewals. Would 45 minutes on Wednesday be worth it to see what it costs you?",
  haveSystem:
    "Makes sense — most of our customers did too. How well does it match skills and parts when you're onboarding new techs? We sit on top of your service software rather than replacing it, and Northgate was live in seven weeks. Would Monday at 11 work to see if that gap is costing you?",
  sendInfo:
    "Sure. So I send the right thing, is it first-time fix or sharing techs between branches that matters more right now? … I'll send the Northgate story today. Could we take 20 minutes Thursday to go through it against your numbers?",
  noBudget:
    "Understood. When does your next planning cycle start, and what would need to be true to fund a project like this? Most teams use the first meeting to size the problem so they're ready when budget opens. Would that help?",
  otherConcern: '',
  voicemail:
    "Pat, Avery Kim at Crewline, 555-0163. Operations leaders opening a new branch tell me second visits are where the margin goes. Northgate raised first-time fix from 71 to 84 percent. I'll send a short email as well. Again, Avery Kim, 555-0163.",
  email:
    'Subject: First-time fix while Aurora ramps up\n\nPat, congratulations on the Aurora branch.\nLeaders growing this fast tell me second visits are where the margin goes; Northgate Mechanical raised first-time fix from 71% to 84%.\nWould Monday at 11 or Wednesday at 3 work for 45 minutes with your dispatch leads?\n\nAvery Kim, Crewline, 555-0163',
};

/** The second version: the opening rewritten after the manager's comment; approved. */
const REP4_SECOND: Answers = {
  ...REP4_FIRST,
  opening:
    "Hi Pat, it's Avery Kim from Crewline. I saw Redline just opened the Aurora branch and is hiring fifteen technicians — that's usually when operations leaders call us. Can I take 30 seconds to tell you why I called, and you decide if it's worth continuing?",
};

const RETURN_COMMENT =
  'Drop "How are you today?" and "bad time?" — they invite a no. Lead with your name, Crewline and the Aurora branch as your reason for calling, then ask for 30 seconds. No product pitch in the opening.';
const APPROVE_NOTE = 'Much stronger opening. Approved: your call block starts Monday with the 40 Front Range HVAC accounts; I will sit in on Wednesday morning.';

export interface DemoSubmissionRep {
  /** the rep's enrollment, as created by the seed */
  enrollment: { _id: Types.ObjectId; versionId: string };
  repId: string;
  managerId: string | null;
  /** the rep's transfer facts (see learning.ts) */
  submission?: { status: string; at: string };
  resultsLogged?: string;
}

const hours = (iso: string, h: number) => new Date(new Date(iso).getTime() + h * 3_600_000);
const day = (d: Date) => d.toISOString().slice(0, 10);

/** The document a rep's facts describe, or nothing for a status the demo does not build. */
function documentFor(r: DemoSubmissionRep): Omit<SubmissionDoc, '_id' | 'createdAt' | 'updatedAt'> | null {
  const s = r.submission;
  if (!s || !r.managerId) return null;
  const repId = new Types.ObjectId(r.repId);
  const managerId = new Types.ObjectId(r.managerId);
  const base = { enrollmentId: r.enrollment._id, moduleId: DEMO_SCRIPT_MODULE, formId: FORM_ID, versionId: r.enrollment.versionId, repId, managerId };
  if (s.status === 'submitted') {
    const at = new Date(s.at);
    return {
      ...base,
      status: 'submitted',
      answers: REP3_SCRIPT,
      rev: 14,
      savedAt: hours(s.at, -0.2),
      versions: [{ n: 1, answers: REP3_SCRIPT, by: repId, kind: 'rep', at }],
      submittedAt: at,
      reviewDueAt: addBusinessDays(at, REVIEW_DAYS),
    };
  }
  if (s.status === 'approved') {
    // v1 three days before the approval, returned the next day, v2 the day before the approval
    const v1 = hours(s.at, -72);
    const returned = hours(s.at, -48);
    const v2 = hours(s.at, -24);
    const approved = new Date(s.at);
    const logged = r.resultsLogged ? new Date(r.resultsLogged) : null;
    return {
      ...base,
      status: 'approved',
      answers: REP4_SECOND,
      rev: 21,
      savedAt: hours(s.at, -24.2),
      versions: [
        { n: 1, answers: REP4_FIRST, by: repId, kind: 'rep', at: v1 },
        { n: 2, answers: REP4_SECOND, by: repId, kind: 'rep', at: v2 },
      ],
      submittedAt: v2,
      reviewDueAt: addBusinessDays(v2, REVIEW_DAYS),
      decisions: [
        { kind: 'returned', version: 1, by: managerId, at: returned, comments: { opening: RETURN_COMMENT }, note: 'Good start — the rest reads like you. One change before I approve it.' },
        { kind: 'approved', version: 2, by: managerId, at: approved, comments: {}, note: APPROVE_NOTE },
      ],
      approvedAt: approved,
      coaching: { metAt: day(approved), observedAt: day(hours(s.at, 24 * 4)) },
      ...(logged
        ? {
            results: { metWithManager: true, calls: 54, contacts: 19, presentations: 9, appointments: 7 },
            resultsLoggedAt: logged,
            resultsConfirmedAt: hours(logged.toISOString(), 24),
            resultsConfirmedBy: managerId,
          }
        : {}),
    };
  }
  return null;
}

/**
 * The transfer submissions behind the demo reps' facts (a script waiting for review, one approved
 * with results), so the review queue and the builder match the roadmap. Inserted only when absent.
 */
export async function seedDemoSubmissions(m: SubmissionModels, reps: DemoSubmissionRep[]): Promise<number> {
  let count = 0;
  for (const r of reps) {
    const doc = documentFor(r);
    if (!doc) continue;
    const { enrollmentId, moduleId, ...rest } = doc;
    const at = doc.submittedAt ?? new Date();
    // no automatic updatedAt: seeding again must change nothing
    const res = await m.Submission.updateOne({ enrollmentId, moduleId }, { $setOnInsert: { ...rest, createdAt: doc.versions[0]?.at ?? at, updatedAt: doc.resultsConfirmedAt ?? at } }, { upsert: true, timestamps: false });
    if (res.upsertedCount) count++;
  }
  return count;
}
