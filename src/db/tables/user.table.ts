export interface UserTable {
  id: string;
  email: string;
  name: string;
  /** JSON array of roles: a person may hold more than one (e.g. auditor and safeguarding). */
  roles: string;
  /** JSON array of team ids, for recipients. */
  teams: string;
  /** scrypt$N$r$p$salt$hash: a memory-hard KDF, so a stolen table is slow to crack. */
  password_hash: string;
  /** No longer used: failures are counted per account and client in sign_in_throttles. */
  failed_attempts: number;
  /** No longer used (see sign_in_throttles). */
  locked_until: string | null;
  /** 1 after an admin's password reset: the next sign-in must choose a new password first. */
  must_change_password: number;
  created_at: string;
  disabled_at: string | null;
}

export interface SessionTable {
  /** SHA-256 of the cookie value: a database leak does not hand out live sessions. */
  id_hash: string;
  user_id: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  /** The OpenID Connect provider (its name in OIDC_PROVIDERS) that signed this session in; null for a password. */
  provider: string | null;
  /** That provider's ID token, sent back as id_token_hint when signing out there. */
  id_token: string | null;
}

/** Failed sign-ins per account and client; both keys are HMACs, never the typed email or address. */
export interface SignInThrottleTable {
  account: string;
  client: string;
  failures: number;
  locked_until: string | null;
  updated_at: string;
}
