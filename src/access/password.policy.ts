import { readFileSync } from 'node:fs';

/** NCSC guidance: length over complexity rules, and no password an attacker tries first. */
export const MIN_PASSWORD_LENGTH = 12;

let common: Set<string> | undefined;

/** The shipped list (src/access/common-passwords.txt, copied beside the build), read once. */
function commonPasswords(): Set<string> {
  common ??= new Set(
    readFileSync(new URL('./common-passwords.txt', import.meta.url), 'utf8')
      .split('\n')
      .map((line) => line.trim().toLowerCase())
      .filter((line) => line !== '' && !line.startsWith('#')),
  );
  return common;
}

/**
 * Why a chosen password is refused, or undefined when it is acceptable. The message is shown beside
 * the field and never repeats the password.
 */
export function passwordProblem(password: string, email?: string): string | undefined {
  if (password.length < MIN_PASSWORD_LENGTH) return `Use at least ${MIN_PASSWORD_LENGTH} characters`;
  const lower = password.trim().toLowerCase();
  if (commonPasswords().has(lower))
    return 'This password is too common: attackers try it first. Choose another, such as three random words';
  if (new Set(lower).size <= 2) return 'Use more than one or two different characters';
  const address = email?.trim().toLowerCase();
  if (address && (lower.includes(address) || lower.includes(address.split('@')[0] ?? address)))
    return 'Do not use your email address in your password';
  return undefined;
}
