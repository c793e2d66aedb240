import type { Generated } from 'kysely';

/** One row, name `sweep`: the last completed and the last failed sweep, anywhere in the cluster. */
export interface SweepStatusTable {
  name: string;
  /** Milliseconds since the epoch, by the database server's clock on PostgreSQL. */
  completed_ms: number | null;
  completed_by: string | null;
  /** Items that threw during the last completed sweep (it carried on past them). */
  completed_errors: Generated<number>;
  failed_ms: number | null;
  failed_by: string | null;
  /** A short reason (a step and an error message), never personal data. */
  failure: string | null;
}

/** Errors counted since installation, per sweep step (see ERROR_STEPS). */
export interface SweepErrorTable {
  step: string;
  total: number;
}
