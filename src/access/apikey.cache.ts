import { performance } from 'node:perf_hooks';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { authenticateApiKey, type ApiKey } from './apikey.service.ts';

/** Enough for every source and team system of a region; past it the cache starts again. */
const MAX_KEYS = 1000;

/**
 * Every API request looked its key up by hash: a read before anything else, on the intake path
 * too. Keys change only when created or revoked, so a recognised key is remembered for
 * API_KEY_CACHE (5 s by default). A revocation on this node forgets them all at once; one made by
 * the CLI or another node takes effect here within that time. Unknown keys are never remembered:
 * a key is usable as soon as it is created, and guessing cannot fill the memory.
 */
export class ApiKeyCache {
  private readonly keys = new Map<string, { apiKey: ApiKey; until: number }>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly ttlMs: number,
    // Monotonic, so a test clock or a wall-clock step cannot stretch it.
    private readonly ticks: () => number = () => performance.now(),
  ) {}

  async authenticate(key: string): Promise<ApiKey | undefined> {
    const now = this.ticks();
    const held = this.keys.get(key);
    if (held && held.until > now) return held.apiKey;
    const apiKey = await authenticateApiKey(this.db, key);
    if (!apiKey || this.ttlMs === 0) {
      this.keys.delete(key);
      return apiKey;
    }
    if (this.keys.size >= MAX_KEYS) this.keys.clear();
    this.keys.set(key, { apiKey, until: now + this.ttlMs });
    return apiKey;
  }

  /** After a revocation on this node: nothing remembered outlives it. */
  forget(): void {
    this.keys.clear();
  }
}
