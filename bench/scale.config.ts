/** `BENCH_SCALE=small` for a quick run (minutes); the default is the full workload the issue names. */
export const SMALL = process.env.BENCH_SCALE === 'small';

export const SCALE = {
  /** Requests per intake concurrency level. */
  intakeRequests: SMALL ? 300 : 3000,
  intakeClients: [1, 16, 64],
  /** The burst (a major incident) and the dispatch comparison. */
  burst: Number(process.env.BENCH_N ?? (SMALL ? 1000 : 10_000)),
  steadyRate: SMALL ? 20 : 50,
  steadySeconds: SMALL ? 5 : 20,
  /** Referral rows for the scale test (ten years of a large region is ~1,000,000). */
  scaleRows: Number(process.env.BENCH_SCALE_ROWS ?? (SMALL ? 100_000 : 1_000_000)),
  dialects: (process.env.BENCH_DIALECTS ?? 'sqlite,postgres').split(',') as ('sqlite' | 'postgres')[],
};
