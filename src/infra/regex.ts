/** `s` as a regular expression that matches it literally (for `$regex` filters built from user data or ids). */
export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
