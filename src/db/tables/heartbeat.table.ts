import type { Channel } from '../codes.ts';
export interface HeartbeatTable {
  component: string;
  node: string;
  beat_at: string;
}

export interface ScheduledRunTable {
  job: string;
  /** The period the run covers, e.g. a London date `2026-11-25`. */
  period: string;
  ran_at: string;
  detail: string;
}

export interface TestAlertTable {
  id: string;
  team_id: string;
  channel: Channel;
  address: string;
  delivery_id: string;
  created_at: string;
  ack_by: string;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
}
