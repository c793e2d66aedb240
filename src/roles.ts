/**
 * What a person may do in Relay. Here, below every folder, because configuration names them too
 * (an identity provider's group-to-role map) as well as accounts.
 */
export const ROLES = ['crew', 'safeguarding', 'recipient', 'admin', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}
