import { meshCertificateStatus, type MeshCertificateStatus } from '../config.mesh-certificate.ts';
import type { RelayContext } from '../context.ts';
import { pingDatabase } from '../db/database.ts';
import { clockSkewMs } from '../db/server-time.ts';
import { probeWrites } from '../db/writable.ts';
import { componentHealth, type ComponentHealth } from './heartbeat.ts';
import { ageReason, judgeAge, skewToleranceMs } from './liveness.ts';
import { readSweepStatus, type SweepStatus } from './sweep-status.ts';

/** The cluster's sweeps as the database records them. */
export interface SweepHealth {
  lastCompletedAt: string | null;
  lastCompletedBy: string | null;
  /** Since the last completed sweep anywhere in the cluster (by the database's clock on PostgreSQL). */
  ageMs: number | null;
  /** No sweep has completed within three intervals (or ever, or the age is negative: a clock moved back). */
  stale: boolean;
  /** Items that threw in the last completed sweep (it carried on past them). */
  errors: number;
  /** When a sweep last failed as a whole, and why; null when none ever has. */
  lastFailedAt: string | null;
  lastFailure: string | null;
}

/** This node's clock against the database server's (PostgreSQL only: SQLite runs in this process). */
export interface ClockHealth {
  /** Milliseconds this node's clock is ahead of the server's (negative: behind). */
  skewMs: number;
  maxSkewMs: number;
  stale: boolean;
}

export interface Readiness {
  ready: boolean;
  status: 'ready' | 'unavailable' | 'draining';
  components: {
    database: 'ok' | 'unreachable' | 'not-writable';
    dispatcher?: ComponentHealth;
    watchdog?: ComponentHealth;
    /** Whether late bounces are listened for; `off` only when BOUNCES=off says so on purpose. */
    bounces?: BouncesState;
    sweep?: SweepHealth;
    clock?: ClockHealth;
    /**
     * Relay's MESH client certificate, when MESH is set with one. Shown, but never a reason to be
     * unready: a node that cannot reach MESH still takes referrals and emails them, and the failed
     * MESH deliveries are escalated; `relay check` is what fails on it.
     */
    meshCertificate?: Omit<MeshCertificateStatus, 'detail'>;
  };
  /** Why this node is not ready, one plain sentence each; empty when it is. */
  reasons: string[];
  /** Where webhooks may connect: `private-allowed` when WEBHOOK_ALLOW_PRIVATE=on lets them into internal networks. */
  webhooks: 'public-only' | 'private-allowed';
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function sweepHealth(ctx: RelayContext, status: SweepStatus): SweepHealth {
  const ageMs = status.completedMs === null ? null : status.nowMs - status.completedMs;
  return {
    lastCompletedAt: iso(status.completedMs),
    lastCompletedBy: status.completedBy,
    ageMs,
    stale: judgeAge(ageMs, 3 * ctx.config.watchdogIntervalMs, skewToleranceMs(ctx.config)) !== 'fresh',
    errors: status.completedErrors,
    lastFailedAt: iso(status.failedMs),
    lastFailure: status.failure,
  };
}

/**
 * Ready means referrals can be taken and will be worked, by this node and the cluster: the database
 * answers and takes writes; somewhere in the cluster a dispatcher and a watchdog have beaten, and a
 * sweep has completed, within three intervals; and this node's clock agrees with the database's.
 * Every node reads the same rows, so a cluster whose sweeps have stopped is unready on every node.
 */
export async function checkReadiness(ctx: RelayContext): Promise<Readiness> {
  const webhooks = ctx.config.delivery.webhookAllowPrivate ? 'private-allowed' : 'public-only';
  const draining = ctx.lifecycle.draining;
  if (!(await pingDatabase(ctx.db))) {
    const reasons = [...(draining ? [DRAINING] : []), 'the database does not answer'];
    return {
      ready: false,
      status: 'unavailable',
      components: { database: 'unreachable' },
      reasons,
      webhooks,
    };
  }
  const [health, status, skewMs, writable] = await Promise.all([
    componentHealth(ctx),
    readSweepStatus(ctx.db.kysely, ctx.clock),
    clockSkewMs(ctx.db.kysely, ctx.clock),
    probeWrites(ctx.db.kysely, ctx.clock),
  ]);
  const sweep = sweepHealth(ctx, status);
  const clock = clockHealth(ctx, skewMs);
  const reasons = [
    ...(draining ? [DRAINING] : []),
    ...(writable ? [] : ['the database does not accept writes (read-only or full)']),
    ...health.flatMap((h) => (h.stale ? [staleReason(ctx, h.component, 'heartbeat', h.ageMs)] : [])),
    ...(sweep.stale ? [staleReason(ctx, 'sweep', 'completed sweep', sweep.ageMs)] : []),
    ...(clock?.stale ? [skewReason(clock)] : []),
  ];
  const ready = reasons.length === 0;
  return {
    ready,
    status: draining ? 'draining' : ready ? 'ready' : 'unavailable',
    components: {
      database: writable ? 'ok' : 'not-writable',
      ...Object.fromEntries(health.map((h) => [h.component, h])),
      bounces: bouncesState(ctx),
      sweep,
      ...(clock ? { clock } : {}),
      ...meshCertificate(ctx),
    },
    reasons,
    webhooks,
  };
}

const DRAINING = 'this node is shutting down';

/** The certificate's state and expiry, without the file names `relay check` gives. */
function meshCertificate(ctx: RelayContext): Pick<Readiness['components'], 'meshCertificate'> {
  const status = meshCertificateStatus(ctx.config.mesh, ctx.clock.now());
  if (!status) return {};
  const { detail: _detail, ...shown } = status;
  return { meshCertificate: shown };
}

function staleReason(ctx: RelayContext, what: string, noun: string, ageMs: number | null): string {
  const verdict = judgeAge(ageMs, 3 * ctx.config.watchdogIntervalMs, skewToleranceMs(ctx.config));
  return `${what}: ${ageReason(verdict, noun, ageMs)}`;
}

function clockHealth(ctx: RelayContext, skewMs: number | null): ClockHealth | undefined {
  const maxSkewMs = ctx.config.liveness.maxClockSkewMs;
  if (skewMs === null || maxSkewMs === null) return undefined;
  return { skewMs, maxSkewMs, stale: Math.abs(skewMs) > maxSkewMs };
}

function skewReason(clock: ClockHealth): string {
  const seconds = Math.round(Math.abs(clock.skewMs) / 1000);
  const side = clock.skewMs > 0 ? 'ahead of' : 'behind';
  return `clock: this node's clock is ${seconds} s ${side} the database server's (MAX_CLOCK_SKEW is ${clock.maxSkewMs / 1000} s)`;
}

export type BouncesState = 'on' | 'off' | 'not-configured';

function bouncesState(ctx: RelayContext): BouncesState {
  if (ctx.config.bounces === 'off') return 'off';
  return ctx.config.bounceSmtpPort === undefined ? 'not-configured' : 'on';
}
