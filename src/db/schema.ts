import type { ApiKeyTable } from './tables/apikey.table.ts';
import type { AcknowledgementTable, EscalationTable } from './tables/assurance.table.ts';
import type { HeartbeatTable, ScheduledRunTable, TestAlertTable } from './tables/heartbeat.table.ts';
import type { SweepErrorTable, SweepStatusTable } from './tables/sweep.table.ts';
import type { LeaseTable } from './tables/lease.table.ts';
import type { OncallShiftTable } from './tables/oncall.table.ts';
import type { EscalationPushTable } from './tables/push.table.ts';
import type { DeliveryAttemptTable, DeliveryTable } from './tables/delivery.table.ts';
import type { CrewProfileTable, ReferralDraftTable } from './tables/draft.table.ts';
import type {
  AuthorityTable,
  BankHolidayTable,
  CoverageTable,
  DirectoryVersionTable,
  TeamChannelTable,
  TeamPhoneTable,
  TeamTable,
} from './tables/directory.table.ts';
import type { SessionTable, SignInThrottleTable, UserTable } from './tables/user.table.ts';
import type { IdentityLinkTable, OidcSignInTable } from './tables/identity.table.ts';
import type {
  RecoveryCodeTable,
  SecondFactorChallengeTable,
  SecondFactorTable,
} from './tables/second-factor.table.ts';
import type { CaughtMessageTable } from './tables/mailcatcher.table.ts';
import type { AuditHeadTable, AuditKeyingTable, AuditLogTable } from './tables/audit.table.ts';
import type { ReviewCaseTable, ReviewNoteTable, ReviewTable } from './tables/review.table.ts';
import type { ReconciliationRunTable } from './tables/reconciliation.table.ts';
import type {
  ReferenceCounterTable,
  ReferralEventTable,
  ReferralSearchTermTable,
  ReferralTable,
  RouteTable,
  TriageItemTable,
} from './tables/referral.table.ts';

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
  referral_search_terms: ReferralSearchTermTable;
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
  identity_links: IdentityLinkTable;
  oidc_sign_ins: OidcSignInTable;
  second_factors: SecondFactorTable;
  recovery_codes: RecoveryCodeTable;
  second_factor_challenges: SecondFactorChallengeTable;
  reconciliation_runs: ReconciliationRunTable;
  reviews: ReviewTable;
  review_cases: ReviewCaseTable;
  review_notes: ReviewNoteTable;
  oncall_shifts: OncallShiftTable;
  escalation_pushes: EscalationPushTable;
  referral_drafts: ReferralDraftTable;
  crew_profiles: CrewProfileTable;
}
