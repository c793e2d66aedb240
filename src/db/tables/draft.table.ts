/** A crew form's draft: its controls as sealed JSON, until it is sent or 72 hours pass unsaved. */
export interface ReferralDraftTable {
  /** The form's source reference: the idempotency key the referral is sent with. */
  id: string;
  /** Null while a draft posted after its session ended waits for the sign-in that claims it. */
  user_id: string | null;
  /** SHA-256 of that one-time claim token; null once claimed. */
  claim_hash: string | null;
  /** The form's controls as JSON, sealed (PERSONAL_FIELDS.draftAnswers). */
  answers: string;
  created_at: string;
  updated_at: string;
}

/** What a crew member gives on every referral about themselves, to fill the next form in. */
export interface CrewProfileTable {
  user_id: string;
  role: string | null;
  staff_id: string | null;
  phone: string | null;
  updated_at: string;
}
