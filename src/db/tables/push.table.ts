/** One push of an escalation to a named person: an email, or a POST to the paging gateway. */
export interface EscalationPushTable {
  id: string;
  escalation_id: string;
  /** 0: the person on call (or SAFEGUARDING_EMAIL); n: the n-th address of ESCALATION_LADDER. */
  rung: number;
  /** Why it was pushed: opened, ladder, claim-lapsed, reopened. */
  cause: string;
  channel: 'email' | 'pager';
  /** A staff address, never a referral's subject. */
  recipient: string;
  /**
   * queued (and retrying), sent, failed once its attempts are spent, or cancelled when the
   * escalation was claimed or resolved while it waited to be retried.
   */
  state: 'queued' | 'sent' | 'failed' | 'cancelled';
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  sent_at: string | null;
}
