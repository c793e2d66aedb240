import type { Role, User } from '../access/user.service.ts';

export interface NavItem {
  href: string;
  text: string;
}

/** Each role's pages, in the order people use them; the first is the role's start page. */
export const ROLE_PAGES: Record<Role, NavItem[]> = {
  crew: [
    { href: '/crew/referrals/new', text: 'Raise a referral' },
    { href: '/crew/referrals', text: 'My referrals' },
  ],
  recipient: [{ href: '/inbox', text: 'Team inbox' }],
  safeguarding: [
    { href: '/safeguarding', text: 'Dashboard' },
    { href: '/safeguarding/escalations', text: 'Escalations' },
    { href: '/safeguarding/triage', text: 'Triage' },
    { href: '/safeguarding/search', text: 'Search' },
    { href: '/safeguarding/reviews', text: 'Reviews' },
    { href: '/safeguarding/reconcile', text: 'Reconcile' },
  ],
  admin: [
    { href: '/admin/users', text: 'Users' },
    { href: '/admin/directory', text: 'Directory' },
    { href: '/admin/api-keys', text: 'API keys' },
  ],
  auditor: [
    { href: '/audit', text: 'Audit log' },
    { href: '/safeguarding/reviews', text: 'Reviews' },
  ],
};

export function navigationFor(user: User | undefined, options: { mailbox: boolean }): NavItem[] {
  const items = user ? user.roles.flatMap((role) => ROLE_PAGES[role]) : [];
  const unique = items.filter((item, i) => items.findIndex((x) => x.href === item.href) === i);
  return options.mailbox && user ? [...unique, { href: '/mailbox', text: 'Mailbox' }] : unique;
}

export function startPage(user: User): string {
  const first = user.roles[0];
  return first ? (ROLE_PAGES[first][0]?.href ?? '/sign-in') : '/sign-in';
}
