/** Password rules, pure. A long passphrase beats clever composition rules (NIST SP 800-63B). */
export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 200; // argon2 hashes anything, but a bounded input bounds the work

const COMMON = new Set([
  'password123', 'password1234', '1234567890', 'qwertyuiop', 'letmein123', 'welcome123',
  'iloveyou12', 'administrator', 'changeme123', 'passw0rd123', 'onboarding1',
]);

export function passwordProblems(password: string, person: { email?: string; name?: string } = {}): string[] {
  const problems: string[] = [];
  if (password.length < PASSWORD_MIN_LENGTH) problems.push(`must be at least ${PASSWORD_MIN_LENGTH} characters`);
  if (password.length > PASSWORD_MAX_LENGTH) problems.push(`must be at most ${PASSWORD_MAX_LENGTH} characters`);
  const lower = password.toLowerCase();
  if (COMMON.has(lower)) problems.push('is one of the most common passwords');
  if (/^(.)\1*$/.test(password)) problems.push('must not repeat a single character');
  const local = person.email?.split('@')[0]?.toLowerCase();
  if (local && local.length >= 4 && lower.includes(local)) problems.push('must not contain your email address');
  return problems;
}
