// Test-only: moves this process's wall clock so the suite can be run at any hour of any day.
// RELAY_FAKE_NOW=2026-12-06T03:09:00Z makes `Date` start at that instant and run on from it in real
// time. It is loaded with `--import` (scripts/test.mjs puts it in NODE_OPTIONS, and the test helpers
// pass NODE_OPTIONS on to the relay processes they start). The first process to load it rewrites the
// variable as `instant@real-ms` so every child continues the same timeline instead of starting over.
// Only `Date` moves: timers, performance.now() and the database server's clock do not.
const spec = process.env.RELAY_FAKE_NOW;

if (spec) {
  const RealDate = Date;
  const [at, anchor] = spec.split('@');
  const start = RealDate.parse(at);
  const since = anchor === undefined ? RealDate.now() : Number(anchor);
  if (Number.isNaN(start) || Number.isNaN(since)) {
    throw new Error(`RELAY_FAKE_NOW must be an ISO instant, optionally @epoch-ms: ${spec}`);
  }
  const offset = start - since;
  process.env.RELAY_FAKE_NOW = `${at}@${since}`;

  const now = () => RealDate.now() + offset;
  function FakeDate(...args) {
    if (!new.target) return new RealDate(now()).toString();
    return Reflect.construct(RealDate, args.length === 0 ? [now()] : args, new.target);
  }
  Object.setPrototypeOf(FakeDate, RealDate);
  Object.defineProperty(FakeDate, 'name', { value: 'Date' });
  Object.defineProperty(FakeDate, 'length', { value: 7 });
  FakeDate.prototype = RealDate.prototype;
  FakeDate.now = now;
  RealDate.prototype.constructor = FakeDate;
  globalThis.Date = FakeDate;
  // For helpers that start a process on a timeline of its own (test/helpers/clock.ts).
  globalThis[Symbol.for('relay.realNow')] = () => RealDate.now();
}
