import type { AccountService } from './service.js';
import type { CreateUserInput } from './schemas.js';

export const DEMO_PASSWORD = 'onramp-demo';
export const DEMO_DOMAIN = 'demo.onramp.dev';

type DemoUser = Omit<CreateUserInput, 'managerId' | 'password'> & { managerEmail?: string };

/** Reps 1–3 report to manager1, reps 4–6 to manager2. */
export const DEMO_USERS: DemoUser[] = [
  { email: `admin@${DEMO_DOMAIN}`, name: 'Ada Admin', role: 'admin' },
  { email: `trainer@${DEMO_DOMAIN}`, name: 'Tess Trainer', role: 'trainer' },
  { email: `manager1@${DEMO_DOMAIN}`, name: 'Morgan Reyes', role: 'manager' },
  { email: `manager2@${DEMO_DOMAIN}`, name: 'Priya Shah', role: 'manager' },
  ...['Riley Chen', 'Sam Okafor', 'Jordan Blake', 'Avery Kim', 'Casey Novak', 'Drew Patel'].map(
    (name, i): DemoUser => ({
      email: `rep${i + 1}@${DEMO_DOMAIN}`,
      name,
      role: 'rep',
      managerEmail: i < 3 ? `manager1@${DEMO_DOMAIN}` : `manager2@${DEMO_DOMAIN}`,
    }),
  ),
];

/** Seeds the demo users on an empty database; does nothing when anyone exists. */
export async function seedDemoUsers(accounts: AccountService): Promise<{ seeded: boolean; count: number }> {
  if (!(await accounts.isEmpty())) return { seeded: false, count: 0 };
  const ids = new Map<string, string>();
  for (const u of DEMO_USERS) {
    const { managerEmail, ...rest } = u;
    const managerId = managerEmail ? ids.get(managerEmail) : null;
    const { user } = await accounts.create('system', { ...rest, managerId: managerId ?? null, password: DEMO_PASSWORD });
    ids.set(user.email, user.id);
  }
  return { seeded: true, count: DEMO_USERS.length };
}

export function demoLoginLines(): string[] {
  return [
    `  password for every demo account: ${DEMO_PASSWORD}`,
    `  admin@${DEMO_DOMAIN}      trainer@${DEMO_DOMAIN}`,
    `  manager1@${DEMO_DOMAIN}   (reps 1–3)    manager2@${DEMO_DOMAIN}   (reps 4–6)`,
    `  rep1@${DEMO_DOMAIN} … rep6@${DEMO_DOMAIN}`,
  ];
}
