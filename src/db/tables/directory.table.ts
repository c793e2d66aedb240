import type { Generated } from 'kysely';

/** Row types of the versioned directory: every row belongs to one immutable directory version. */
export interface DirectoryVersionTable {
  id: Generated<number>;
  name: string;
  created_at: string;
  created_by: string;
  source: string;
  checksum: string;
  summary: string;
}

export interface AuthorityTable {
  version_id: number;
  id: string;
  name: string;
}

export interface TeamTable {
  version_id: number;
  id: string;
  authority_id: string;
  kind: string;
  name: string;
  email_detail: string;
  /** OpeningHours as JSON. */
  hours: string;
}

export interface TeamChannelTable {
  version_id: number;
  team_id: string;
  position: number;
  kind: string;
  role: string | null;
  address: string;
  secret: string | null;
  /** A webhook's body format (`json`, `fhir`); null for email and for a webhook that named none. */
  format: string | null;
  /** A MESH entry's workflow id (its `address` is the mailbox); null for email and webhook. */
  workflow_id: string | null;
  owner: string;
  verify_by: string;
}

export interface TeamPhoneTable {
  version_id: number;
  team_id: string;
  position: number;
  label: string;
  number: string;
}

export interface BankHolidayTable {
  version_id: number;
  date: string;
  name: string;
}

export interface CoverageTable {
  version_id: number;
  prefix: string;
  authority_id: string | null;
  /** Authority ids as JSON when the prefix straddles authorities. */
  split: string | null;
}
