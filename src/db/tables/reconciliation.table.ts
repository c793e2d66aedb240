/**
 * One row per reconciliation run, so the page, its CSV and its JSON show the same report without
 * running it again. The report holds references, teams and times: no personal data.
 */
export interface ReconciliationRunTable {
  id: string;
  ran_at: string;
  /** `cli` or `user:<id>`, as in the audit log. */
  actor: string;
  /** Counts, period and systems as JSON, for listing runs without reading whole reports. */
  summary: string;
  /** The report as JSON (ReconciliationReport). */
  report: string;
}
