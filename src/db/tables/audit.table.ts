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

/**
 * Where keyed hashing (HMAC under AUDIT_KEY) began: entries before `keyed_from` were written with
 * plain SHA-256 and are checked that way. `seal` is an HMAC of `keyed_from` under AUDIT_KEY, so the
 * start cannot be moved without the key.
 */
export interface AuditKeyingTable {
  id: number;
  keyed_from: number;
  seal: string;
}
