/** A leadership lease: one row per name (`sweep`), held by one node until it expires. */
export interface LeaseTable {
  name: string;
  /** The node holding it (its process id and a random suffix). */
  holder: string;
  /** Milliseconds since the epoch, by the database server's clock on PostgreSQL. */
  expires_ms: number;
  /** When the holder took it (renewals keep this). */
  acquired_ms: number;
}
