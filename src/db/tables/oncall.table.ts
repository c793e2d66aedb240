/** One entry of the on-call rota: `email` is on call from `starts_at` (inclusive) to `ends_at` (exclusive). */
export interface OncallShiftTable {
  id: string;
  email: string;
  starts_at: string;
  ends_at: string;
  created_at: string;
  /** The audit actor who added it (`user:<id>`, `cli`). */
  created_by: string;
  /** Set when the entry is taken off the rota; the row stays as the record of the plan. */
  removed_at: string | null;
  removed_by: string | null;
}
