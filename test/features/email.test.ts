import type { Worker } from 'bullmq';
import { SMTPServer, type SMTPServerDataStream } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/env.js';
import { ValidationFailed } from '../../src/errors.js';
import { MailService, smtpMailer } from '../../src/features/email/service.js';
import { EMAIL_TEMPLATE_NAMES, EmailTemplates, type EmailData, type EmailTemplateName } from '../../src/features/email/templates.js';
import { connectRedis } from '../../src/infra/redis.js';
import { jobDepsOf, startWorker } from '../../src/jobs/worker.js';
import { createTestContext, seedPeople, signIn, type TestContext } from '../support/context.js';

const APP = 'https://onramp.example.com';
const templates = new EmailTemplates(APP);

const SAMPLE: { [T in EmailTemplateName]: EmailData<T> } = {
  'review-requested': { managerName: 'Maria Manager', repName: 'Robin Rep', itemTitle: 'Discovery call plan', curriculumTitle: 'Sales onboarding', dueAt: '2026-03-13T17:00:00Z', timeZone: 'Europe/Berlin', link: '/reviews/1' },
  'changes-requested': { repName: 'Robin Rep', managerName: 'Maria Manager', itemTitle: 'Discovery call plan', comment: 'Good start.\nAdd two open questions about budget.', link: '/transfer/1' },
  'submission-approved': { repName: 'Robin Rep', managerName: 'Maria Manager', itemTitle: 'Discovery call plan', link: '/roadmap' },
  'review-overdue': { managerName: 'Maria Manager', repName: 'Robin Rep', itemTitle: 'Discovery call plan', submittedAt: new Date('2026-03-09T09:00:00Z'), dueAt: new Date('2026-03-11T17:00:00Z'), link: '/reviews/1' },
  'reinforcement-delivery': {
    repName: 'Robin Rep',
    questions: [
      { prompt: 'Which question opens a discovery call best?', moduleTitle: 'Discovery call plan', link: '/reinforcement/deliveries/d1?via=email#q-a.q1' },
      { prompt: 'True or false: the ask names a date and time.', moduleTitle: 'Appointment setting', link: '/reinforcement/deliveries/d1?via=email#q-a.q2' },
    ],
    streak: 4,
    link: '/reinforcement/deliveries/d1?via=email',
    settingsLink: '/reinforcement/settings',
  },
};

describe('email templates', () => {
  it.each(EMAIL_TEMPLATE_NAMES)('%s renders a subject, a plain-text and an HTML version with an absolute link', (name) => {
    const email = templates.render(name, SAMPLE[name] as never);
    expect(email.subject).toMatch(name === 'reinforcement-delivery' ? /2 quick questions/ : /Discovery call plan/);
    expect(email.subject).not.toMatch(/\n/);
    for (const part of [email.text, email.html]) {
      expect(part).toContain('Discovery call plan');
      expect(part).not.toMatch(/undefined|\{\{|Subject:/);
    }
    expect(email.text).toContain(`${APP}/`);
    expect(email.html).toMatch(new RegExp(`href="${APP}/`));
    expect(email.html).toMatch(/^<!doctype html>/);
    expect(email.text, 'no HTML in the text version').not.toMatch(/<\/?[a-z][^>]*>/i);
    expect(email.text).toContain(`Onramp · ${APP}`);
  });

  it('links each reinforcement question straight to itself, absolute, with the streak', () => {
    const email = templates.render('reinforcement-delivery', SAMPLE['reinforcement-delivery']);
    expect(email.text).toContain(`1. Which question opens a discovery call best?\n   (Discovery call plan) Answer it: ${APP}/reinforcement/deliveries/d1?via=email#q-a.q1`);
    expect(email.text).toContain(`${APP}/reinforcement/deliveries/d1?via=email#q-a.q2`);
    expect(email.text).toContain('streak of 4 sets');
    expect(email.html).toContain(`href="${APP}/reinforcement/deliveries/d1?via&#x3D;email#q-a.q1"`);
    expect(email.html).toContain(`href="${APP}/reinforcement/settings"`);
    const one = templates.render('reinforcement-delivery', { ...SAMPLE['reinforcement-delivery'], questions: SAMPLE['reinforcement-delivery'].questions.slice(0, 1), streak: 0 });
    expect(one.subject).toBe('1 quick question to keep your training fresh');
    expect(one.text).not.toContain('streak');
  });

  it('writes dates in the reader\'s time zone, and a multi-line comment as it was written', () => {
    const requested = templates.render('review-requested', SAMPLE['review-requested']);
    expect(requested.subject).toBe('Robin Rep submitted “Discovery call plan” for your review');
    expect(requested.text).toMatch(/Please review it by Friday,? 13 March 2026\./);
    const lateEvening = templates.render('review-requested', { ...SAMPLE['review-requested'], dueAt: '2026-03-13T23:30:00Z' });
    expect(lateEvening.text).toMatch(/Please review it by Saturday,? 14 March 2026\./);
    expect(templates.render('review-requested', { ...SAMPLE['review-requested'], dueAt: '2026-03-13T23:30:00Z', timeZone: undefined }).text).toMatch(/Friday,? 13 March/);
    const changes = templates.render('changes-requested', SAMPLE['changes-requested']);
    expect(changes.text).toContain('Their comment:\nGood start.\nAdd two open questions about budget.');
    expect(changes.html).toContain('Good start.\nAdd two open questions about budget.');
  });

  it('escapes what people typed in the HTML version, leaves it as typed in the text version, and keeps the subject on one line', () => {
    const hostile = '<img src=x onerror=alert(1)> Tom & "Jerry"';
    const email = templates.render('changes-requested', { ...SAMPLE['changes-requested'], managerName: `Eve\r\nBcc: all@example.com`, comment: hostile, itemTitle: '<b>Plan</b>' });
    expect(email.html).not.toContain('<img src=x');
    expect(email.html).not.toContain('<b>Plan</b>');
    expect(email.html).toContain('&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt; Tom &amp; &quot;Jerry&quot;');
    expect(email.text).toContain(hostile);
    expect(email.text).not.toContain('&amp;');
    expect(email.subject).toBe('Changes requested on “<b>Plan</b>”');
    const overdue = templates.render('review-overdue', { ...SAMPLE['review-overdue'], repName: 'Rob\nSubject: hi' });
    expect(overdue.subject).toBe('Reminder: “Discovery call plan” from Rob Subject: hi is waiting for your review');
  });

  it('refuses data a template needs but did not get, and links that are not links', () => {
    expect(() => templates.render('submission-approved', { repName: 'Robin' } as never)).toThrow(ValidationFailed);
    expect(() => templates.render('submission-approved', { ...SAMPLE['submission-approved'], link: 'javascript:alert(1)' })).toThrow(ValidationFailed);
    expect(() => templates.render('review-requested', { ...SAMPLE['review-requested'], timeZone: 'Mars/Olympus' })).toThrow(ValidationFailed);
  });

  it('reads SMTP_URL and MAIL_FROM from the environment (empty: unset)', () => {
    const base = { NODE_ENV: 'test' };
    expect(loadConfig({ ...base, SMTP_URL: '' }).smtpUrl).toBeUndefined();
    expect(loadConfig(base).mailFrom).toBe('Onramp <onramp@localhost>');
    const c = loadConfig({ ...base, SMTP_URL: 'smtps://u:p@mail.example.com:465', MAIL_FROM: 'Team <team@example.com>' });
    expect([c.smtpUrl, c.mailFrom]).toEqual(['smtps://u:p@mail.example.com:465', 'Team <team@example.com>']);
    expect(() => loadConfig({ ...base, SMTP_URL: 'http://mail.example.com' })).toThrow(ConfigError);
  });
});

/** A real SMTP server on a free port: it can refuse the next messages (451, try later) or an address for good (550). */
class FakeSmtp {
  readonly received: string[] = [];
  failNext = 0;
  logins = 0;
  private readonly server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth: (auth, _session, cb) => {
      this.logins++;
      if (auth.username === 'onramp' && auth.password === 's3cret') cb(null, { user: auth.username });
      else cb(new Error('Invalid username or password'));
    },
    onRcptTo: (address, _session, cb) => {
      if (address.address.startsWith('nobody@')) cb(Object.assign(new Error('No such user here'), { responseCode: 550 }));
      else cb();
    },
    onData: (stream: SMTPServerDataStream, _session, cb) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (this.failNext > 0) {
          this.failNext--;
          return cb(Object.assign(new Error('Try again later'), { responseCode: 451 }));
        }
        this.received.push(Buffer.concat(chunks).toString('utf8'));
        cb();
      });
    },
  });

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.server.address() as { port: number }).port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const redisConnections: { disconnect(): void }[] = [];
function worker(ctx: TestContext, email: MailService): Worker {
  const redis = connectRedis(ctx.config.redisUrl!, 'test-email-worker');
  redisConnections.push(redis);
  return startWorker(redis, ctx.config.redisPrefix, { ...jobDepsOf(ctx.container), email }, 2);
}

const request = (n: number, to = 'manager1@demo.onramp.dev') => ({ to, template: 'review-requested' as const, data: { ...SAMPLE['review-requested'], repName: `Rep <${n}>` }, dedupeKey: `review-requested:${n}` });

describe('MailService without SMTP: the outbox', () => {
  let ctx: TestContext;
  let w: Worker;
  beforeAll(async () => {
    ctx = await createTestContext();
    await seedPeople(ctx.container);
    w = worker(ctx, ctx.container.email);
  });
  afterAll(async () => {
    await w.close();
    await ctx.close();
  });
  const status = async (id: string) => (await ctx.container.models.EmailMessage.findById(id).lean())?.status;

  it('stores the rendered email first, enqueues a job by its id, and the worker keeps it in the outbox', async () => {
    expect(ctx.container.email.smtpConfigured).toBe(false);
    const { id, created } = await ctx.container.email.send(request(1));
    expect(created).toBe(true);
    const doc = (await ctx.container.models.EmailMessage.findById(id).lean())!;
    expect(doc).toMatchObject({ to: 'manager1@demo.onramp.dev', template: 'review-requested', dedupeKey: 'review-requested:1' });
    expect(doc.subject).toBe('Rep <1> submitted “Discovery call plan” for your review');
    expect(doc.html).toContain('Rep &lt;1&gt;');
    const job = await ctx.container.queue.getJob(`email-${id}`);
    expect(job?.name).toBe('email.send');
    expect(job?.data).toEqual({ messageId: id });
    await vi.waitFor(async () => expect(await status(id!)).toBe('outbox'), { timeout: 15_000, interval: 100 });
    const delivered = (await ctx.container.models.EmailMessage.findById(id).lean())!;
    expect(delivered.sentAt).toBeInstanceOf(Date);
    // a second run of the job changes nothing
    expect(await ctx.container.email.deliver(id!)).toEqual({ id, status: 'outbox', skipped: true });
  });

  it('stores one email per event: the same dedupeKey twice, even at once, is one email', async () => {
    const results = await Promise.all([ctx.container.email.send(request(2)), ctx.container.email.send(request(2))]);
    const again = await ctx.container.email.send(request(2));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(again.created).toBe(false);
    expect(await ctx.container.models.EmailMessage.countDocuments({ dedupeKey: 'review-requested:2' })).toBe(1);
    const id = results.find((r) => r.created)!.id!;
    await vi.waitFor(async () => expect(await status(id)).toBe('outbox'), { timeout: 15_000, interval: 100 });
  });

  it('refuses a bad address or a missing dedupeKey before storing anything', async () => {
    await expect(ctx.container.email.send({ ...request(3), to: 'not an address' })).rejects.toThrow(ValidationFailed);
    await expect(ctx.container.email.send({ ...request(3), dedupeKey: '' })).rejects.toThrow(ValidationFailed);
    expect(await ctx.container.models.EmailMessage.countDocuments({ dedupeKey: 'review-requested:3' })).toBe(0);
  });

  it('admins read the outbox: the list, one email, and its HTML on a sandboxed page of its own', async () => {
    const { id } = await ctx.container.email.send(request(4));
    await vi.waitFor(async () => expect(await status(id!)).toBe('outbox'), { timeout: 15_000, interval: 100 });
    const admin = await signIn(ctx.app, 'admin@demo.onramp.dev');
    const list = await admin.agent.get('/admin/outbox').expect(200);
    expect(list.text).toContain(`href="/admin/outbox/${id}"`);
    expect(list.text).toContain('Rep &lt;4&gt; submitted');
    expect(list.text).toContain('SMTP_URL</code> is not set');
    expect(list.text).toMatch(/href="\/admin\/outbox" aria-current="page">Outbox</);
    expect(list.text.indexOf('Rep &lt;4&gt;')).toBeLessThan(list.text.indexOf('Rep &lt;1&gt;')); // newest first

    const one = await admin.agent.get(`/admin/outbox/${id}`).expect(200);
    expect(one.text).toContain('manager1@demo.onramp.dev');
    expect(one.text).toMatch(/<pre class="email-text" data-testid="email-text">Hi Maria Manager,\n\nRep &lt;4&gt; has submitted/);
    expect(one.text).toContain(`href="/admin/outbox/${id}/html"`);
    expect(one.text).not.toContain('<blockquote'); // the HTML itself is not on this page

    const html = await admin.agent.get(`/admin/outbox/${id}/html`).expect(200);
    expect(html.headers['content-type']).toMatch(/^text\/html/);
    expect(html.headers['content-security-policy']).toBe("default-src 'none'; style-src 'unsafe-inline'; img-src data: https:; form-action 'none'; frame-ancestors 'none'; sandbox");
    expect(html.text).toContain('Rep &lt;4&gt;');

    await admin.agent.get('/admin/outbox/0123456789abcdef01234567').expect(404);
    await admin.agent.get('/admin/outbox/nope').expect(404);
    const rep = await signIn(ctx.app, 'rep1@demo.onramp.dev');
    await rep.agent.get('/admin/outbox').expect(403);
    await rep.agent.get(`/admin/outbox/${id}/html`).expect(403);
  });
});

describe('MailService with SMTP (a real SMTP server on a free port)', () => {
  let ctx: TestContext;
  let smtp: FakeSmtp;
  let mail: MailService;
  let w: Worker;
  beforeAll(async () => {
    smtp = new FakeSmtp();
    const port = await smtp.listen();
    ctx = await createTestContext({ SMTP_URL: `smtp://onramp:s3cret@127.0.0.1:${port}`, MAIL_FROM: 'Onramp <onramp@example.com>' });
    // the container's service, with the real SMTP mailer from the config, and short retry delays
    mail = new MailService(ctx.container.models, new EmailTemplates(ctx.config.publicUrl), ctx.container.queue, smtpMailer(ctx.config.smtpUrl!), ctx.container.log, { from: ctx.config.mailFrom, attempts: 3, backoffMs: 300 });
    w = worker(ctx, mail);
  });
  afterAll(async () => {
    await w?.close();
    for (const r of redisConnections) r.disconnect();
    await ctx?.close();
    await smtp?.close();
  });
  const doc = async (id: string) => (await ctx.container.models.EmailMessage.findById(id).lean())!;

  it('is configured from SMTP_URL', () => {
    expect(ctx.container.email.smtpConfigured).toBe(true);
  });

  it('retries after a temporary SMTP failure, then sends the email exactly once', async () => {
    smtp.failNext = 1;
    const { id } = await mail.send(request(10, 'Maria Manager <manager1@example.com>'));
    await vi.waitFor(async () => expect((await doc(id!)).status).toBe('sent'), { timeout: 20_000, interval: 100 });
    const sent = await doc(id!);
    expect(sent).toMatchObject({ attempts: 2, lastError: null, messageId: `<email-${id}@example.com>` });
    expect(sent.response).toMatch(/^250/);
    expect(smtp.received).toHaveLength(1);
    expect(smtp.logins).toBeGreaterThanOrEqual(1);
    const raw = smtp.received[0]!;
    expect(raw).toMatch(/^From: Onramp <onramp@example\.com>/m);
    expect(raw).toMatch(/^To: Maria Manager <manager1@example\.com>/m);
    expect(raw).toMatch(/^Subject: /m);
    expect(raw).toContain(`Message-ID: <email-${id}@example.com>`);
    expect(raw).toMatch(/Content-Type: multipart\/alternative/);
    const job = await ctx.container.queue.getJob(`email-${id}`);
    expect(job?.attemptsMade).toBe(2);

    // the job again, the same event again: nothing more is sent
    expect(await mail.deliver(id!)).toEqual({ id, status: 'sent', skipped: true });
    expect((await mail.send(request(10, 'Maria Manager <manager1@example.com>'))).created).toBe(false);
    await new Promise((r) => setTimeout(r, 500));
    expect(smtp.received).toHaveLength(1);
  });

  it('records the error of each failed try, and gives up after the last one', async () => {
    smtp.failNext = 3;
    const { id } = await mail.send(request(11));
    await vi.waitFor(async () => expect((await doc(id!)).status).toBe('failed'), { timeout: 20_000, interval: 100 });
    expect(await doc(id!)).toMatchObject({ attempts: 3, sentAt: null });
    expect((await doc(id!)).lastError).toMatch(/451.*Try again later/);
    expect(smtp.received).toHaveLength(1); // only the one from the test before
  });

  it('fails at once, without retries, when the server refuses the address for good', async () => {
    const { id } = await mail.send(request(12, 'nobody@example.com'));
    await vi.waitFor(async () => expect((await doc(id!)).status).toBe('failed'), { timeout: 20_000, interval: 100 });
    expect(await doc(id!)).toMatchObject({ attempts: 1 });
    expect((await doc(id!)).lastError).toMatch(/550/);
    const job = await ctx.container.queue.getJob(`email-${id}`);
    await vi.waitFor(async () => expect(await job!.getState()).toBe('failed'));
    expect((await ctx.container.queue.getJob(`email-${id}`))?.attemptsMade).toBe(1);
  });
});
