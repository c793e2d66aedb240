import type { Sink } from '../lib/sink.ts';
import { sleep } from '../lib/stats.ts';
import type { ChaosSystem } from './systems.ts';

/** What a fault did: when (seconds into the load), and how long until the system or store answered again. */
export interface FaultLog {
  at: number[];
  backAfter: number[];
}

/** A fault runs beside the load from its start (t0). */
export type Fault = (system: ChaosSystem, t0: number) => Promise<FaultLog>;

/** The fault schedule's generator: every system meets the same faults. */
export { seeded } from '../lib/random.ts';

/** `count` moments in [from, to) seconds, sorted, at least `gap` seconds apart, uniformly among such schedules. */
export function schedule(
  random: () => number,
  count: number,
  from: number,
  to: number,
  gap: number,
): number[] {
  const slack = to - from - (count - 1) * gap;
  if (slack < 0) throw new Error('no schedule fits: fewer faults or a longer run');
  // Draw in the room left once the gaps are set aside, then put the gaps back between them.
  const draws = Array.from({ length: count }, () => random() * slack).sort((a, b) => a - b);
  return draws.map((t, i) => Math.round((from + t + i * gap) * 10) / 10);
}

const untilSecond = (t0: number, at: number) => sleep(Math.max(0, t0 + at * 1000 - Date.now()));
const seconds = (ms: number) => Math.round(ms / 100) / 10;

/** 0–3 s: 421 to half; 3–6 s: 451 to all; 6–9 s: the server stalls; then it recovers. */
export function smtpStorms(sink: Sink): Fault {
  return async () => {
    sink.setMode('421', 0.5);
    await sleep(3000);
    sink.setMode('451', 1);
    await sleep(3000);
    sink.setMode('stall', 1);
    await sleep(3000);
    sink.setMode('accept');
    return { at: [0, 3, 6], backAfter: [3, 3, 3] };
  };
}

/**
 * SIGKILL of the sending process at the scheduled moments, started again at once. A kill whose moment
 * comes while the previous start is still under way waits until the process answers, so every kill
 * lands on a running process.
 */
export function sigkills(times: number[]): Fault {
  return async (system, t0) => {
    const log: FaultLog = { at: [], backAfter: [] };
    for (const at of times) {
      await untilSecond(t0, at);
      await system.process.waitReady();
      const killedAt = Date.now();
      log.at.push(seconds(killedAt - t0));
      await system.process.kill();
      await system.process.start();
      log.backAfter.push(seconds(Date.now() - killedAt));
    }
    return log;
  };
}

/** Restarts the system's store at the scheduled moments, down for `downMs` each time. */
export function storeRestarts(
  times: number[],
  downMs: number,
  restart: (downMs: number) => Promise<unknown>,
): Fault {
  return async (_system, t0) => {
    const log: FaultLog = { at: [], backAfter: [] };
    for (const at of times) {
      await untilSecond(t0, at);
      const stoppedAt = Date.now();
      log.at.push(seconds(stoppedAt - t0));
      await restart(downMs);
      log.backAfter.push(seconds(Date.now() - stoppedAt));
    }
    return log;
  };
}

/**
 * The same store restarts, each preceded by `backlogMs` of 451s from the SMTP server, so the store
 * holds a backlog of messages waiting for their retry when it goes down (as it would during a mail
 * outage); the SMTP server answers normally again once the store is back.
 */
export function storeRestartsWithBacklog(
  times: number[],
  downMs: number,
  restart: (downMs: number) => Promise<unknown>,
  sink: Sink,
  backlogMs: number,
): Fault {
  return async (_system, t0) => {
    const log: FaultLog = { at: [], backAfter: [] };
    for (const at of times) {
      await untilSecond(t0, at - backlogMs / 1000);
      sink.setMode('451', 1);
      await untilSecond(t0, at);
      const stoppedAt = Date.now();
      log.at.push(seconds(stoppedAt - t0));
      try {
        await restart(downMs);
      } finally {
        sink.setMode('accept');
      }
      log.backAfter.push(seconds(Date.now() - stoppedAt));
    }
    return log;
  };
}
