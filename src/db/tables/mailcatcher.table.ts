/** Emails caught by the embedded default's SMTP sink, so a newcomer can read what Relay sent. */
export interface CaughtMessageTable {
  id: string;
  received_at: string;
  envelope_from: string;
  /** JSON array of envelope recipients. */
  envelope_to: string;
  message_id: string | null;
  subject: string;
  text: string;
  html: string | null;
  raw: string;
}
