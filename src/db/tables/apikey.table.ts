export interface ApiKeyTable {
  id: string;
  name: string;
  scope: string;
  team_id: string | null;
  source_system: string | null;
  /** SHA-256 of the key: keys are long random strings, so a fast hash is enough and lookups stay O(1). */
  key_hash: string;
  key_prefix: string;
  created_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
}
