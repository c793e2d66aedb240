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
  failed_attempts: number;
  locked_until: string | null;
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
}
