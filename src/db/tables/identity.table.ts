/** A provider's subject (unique per issuer) linked to a Relay account. */
export interface IdentityLinkTable {
  issuer: string;
  subject: string;
  user_id: string;
  created_at: string;
}

/** An OpenID Connect sign-in in flight; the callback consumes it, so each state is good once. */
export interface OidcSignInTable {
  /** SHA-256 of the state sent to the provider. */
  state_hash: string;
  provider: string;
  nonce: string;
  code_verifier: string;
  /** Where to go afterwards (already checked to stay on BASE_URL). */
  next: string;
  expires_at: string;
}
