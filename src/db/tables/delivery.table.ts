import type { Generated } from 'kysely';
import type { AttemptKind, Channel, DeliveryState, Purpose } from '../codes.ts';

/** Queue state lives on the row (graphile-worker style): state, attempts, next attempt, lease. */
export interface DeliveryTable {
  id: string;
  /** Null only for a test alert. */
  referral_id: string | null;
  route_id: string | null;
  team_id: string;
  channel: Channel;
  address: string;
  purpose: Purpose;
  state: DeliveryState;
  attempts: number;
  next_attempt_at: string;
  locked_by: string | null;
  lease_until: string | null;
  last_error: string | null;
  send_by: string;
  message_id: string;
  /** The id the provider gave the message on acceptance (MESH's messageID); null for email and webhook. */
  provider_message_id: string | null;
  created_at: string;
  updated_at: string;
  sent_at: string | null;
  acknowledged_at: string | null;
}

export interface DeliveryAttemptTable {
  id: Generated<number>;
  delivery_id: string;
  worker: string;
  started_at: string;
  finished_at: string;
  duration_ms: number;
  outcome: AttemptKind;
  detail: string;
}
