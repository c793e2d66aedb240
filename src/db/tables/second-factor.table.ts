/** A local account's TOTP secret; `id` is the user's id. */
export interface SecondFactorTable {
  id: string;
  /** Sealed (PERSONAL_FIELDS.totpSecret): the base32 secret the authenticator app holds. */
  secret: string;
  created_at: string;
  /** Null until the person has typed a right code from it; only then does it guard sign-in. */
  enrolled_at: string | null;
  /** The newest TOTP time step accepted: a code from it or an earlier step is refused. */
  last_step: number | null;
}

/** One single-use recovery code, as an scrypt hash. */
export interface RecoveryCodeTable {
  id: string;
  user_id: string;
  code_hash: string;
  used_at: string | null;
}

/** A sign-in whose password was right and whose second factor is still to come. */
export interface SecondFactorChallengeTable {
  /** SHA-256 of the cookie value. */
  id_hash: string;
  user_id: string;
  /** Where to go afterwards (already checked to stay on BASE_URL). */
  next: string;
  expires_at: string;
}
