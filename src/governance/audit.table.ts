/** Append-only: triggers refuse UPDATE and DELETE; the hash chain shows any change made around them. */
export interface AuditLogTable {
  seq: number;
  at: string;
  actor: string;
  action: string;
  entity_type: string;
  entity_id: string;
  detail: string;
  prev_hash: string;
  hash: string;
}

/** The newest entry's seq and hash, so that deleting the tail of the chain is detected too. */
export interface AuditHeadTable {
  id: number;
  seq: number;
  hash: string;
}
