import type { ApiKeyTable } from '../access/apikey.table.ts';
import type { CrewProfileTable, ReferralDraftTable } from '../referrals/draft.table.ts';
import type { AcknowledgementTable, EscalationTable } from '../assurance/assurance.table.ts';
import type { HeartbeatTable, ScheduledRunTable, TestAlertTable } from '../assurance/heartbeat.table.ts';
import type { SweepErrorTable, SweepStatusTable } from '../assurance/sweep.table.ts';
import type { LeaseTable } from '../cluster/lease.table.ts';
import type { OncallShiftTable } from '../assurance/oncall/oncall.table.ts';
import type { EscalationPushTable } from '../assurance/pushes/push.table.ts';
import type { DeliveryAttemptTable, DeliveryTable } from '../delivery/delivery.table.ts';
import type {
  AuthorityTable,
  BankHolidayTable,
  CoverageTable,
  DirectoryVersionTable,
  TeamChannelTable,
  TeamPhoneTable,
  TeamTable,
} from '../directory/directory.table.ts';
import type { SessionTable, SignInThrottleTable, UserTable } from '../web/auth/user.table.ts';
import type { CaughtMessageTable } from '../mailcatcher/mailcatcher.table.ts';
import type { AuditHeadTable, AuditKeyingTable, AuditLogTable } from '../governance/audit.table.ts';
import type { ReviewCaseTable, ReviewNoteTable, ReviewTable } from '../governance/review.table.ts';
import type { ReconciliationRunTable } from '../governance/reconciliation.table.ts';
import type {
  ReferenceCounterTable,
  ReferralEventTable,
  ReferralTable,
  RouteTable,
  TriageItemTable,
} from '../referrals/referral.table.ts';

/** Assembled from each capability's *.table.ts. */
export interface Database {
  directory_versions: DirectoryVersionTable;
  authorities: AuthorityTable;
  teams: TeamTable;
  team_channels: TeamChannelTable;
  team_phones: TeamPhoneTable;
  bank_holidays: BankHolidayTable;
  coverage: CoverageTable;
  referrals: ReferralTable;
  routes: RouteTable;
  triage_items: TriageItemTable;
  referral_events: ReferralEventTable;
  reference_counters: ReferenceCounterTable;
  deliveries: DeliveryTable;
  delivery_attempts: DeliveryAttemptTable;
  acknowledgements: AcknowledgementTable;
  escalations: EscalationTable;
  audit_log: AuditLogTable;
  audit_head: AuditHeadTable;
  audit_keying: AuditKeyingTable;
  api_keys: ApiKeyTable;
  caught_messages: CaughtMessageTable;
  heartbeats: HeartbeatTable;
  scheduled_runs: ScheduledRunTable;
  test_alerts: TestAlertTable;
  sweep_status: SweepStatusTable;
  sweep_errors: SweepErrorTable;
  leases: LeaseTable;
  users: UserTable;
  sessions: SessionTable;
  sign_in_throttles: SignInThrottleTable;
  reconciliation_runs: ReconciliationRunTable;
  reviews: ReviewTable;
  review_cases: ReviewCaseTable;
  review_notes: ReviewNoteTable;
  oncall_shifts: OncallShiftTable;
  escalation_pushes: EscalationPushTable;
  referral_drafts: ReferralDraftTable;
  crew_profiles: CrewProfileTable;
}
