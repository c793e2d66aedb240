import { EventEmitter } from 'node:events';
import type { Clock } from './clock.ts';
import type { Config } from './config.ts';
import type { Db } from './db/database.ts';
import { ApiKeyCache } from './access/apikey.cache.ts';
import { DirectoryCache } from './directory/directory.service.ts';
import { useAuditKey } from './records/audit.ts';
import { IntakeWriter } from './referrals/intake.writer.ts';

/** What every service needs, built once per process (or per test) and passed down explicitly. */
export interface RelayContext {
  config: Readonly<Config>;
  db: Db;
  clock: Clock;
  directories: DirectoryCache;
  /** Recognised API keys for API_KEY_CACHE; forgotten on a revocation made here. */
  apiKeys: ApiKeyCache;
  /** Intake's group commit: referrals accepted together share one transaction. */
  intake: IntakeWriter;
  /** In-process signals, e.g. `deliveries-queued` wakes the dispatcher without waiting for its poll. */
  signals: EventEmitter;
  /** Set on SIGTERM: HTTP answers 503 so the load balancer moves on while in-flight work finishes. */
  lifecycle: { draining: boolean };
}

/**
 * What reading Relay's state takes: settings, database, clock. `relay check` builds only this, so
 * it never loads the directory, intake or key caches a serving node needs.
 */
export type CoreContext = Pick<RelayContext, 'config' | 'db' | 'clock'>;

export function createContext(config: Readonly<Config>, db: Db, clock: Clock): RelayContext {
  useAuditKey(config.auditKey);
  return {
    config,
    db,
    clock,
    directories: new DirectoryCache(db.kysely),
    apiKeys: new ApiKeyCache(db.kysely, config.apiKeyCacheMs),
    intake: new IntakeWriter(db.kysely),
    signals: new EventEmitter(),
    lifecycle: { draining: false },
  };
}
