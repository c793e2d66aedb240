import { formatDay, type DayCount } from './dashboard.stats.ts';

/**
 * Geometry for a server-rendered SVG bar chart, so the page needs no JavaScript. The numbers are
 * also given as a table and in the chart's description: the picture is never the only way to read them.
 */
export interface BarChart {
  width: number;
  height: number;
  plot: { left: number; top: number; right: number; bottom: number };
  bars: { x: number; y: number; width: number; height: number; date: string; day: string; count: number }[];
  gridlines: { y: number; value: number }[];
  xLabels: { x: number; text: string }[];
  title: string;
  description: string;
}

const WIDTH = 640;
const HEIGHT = 220;
const PLOT = { left: 36, top: 12, right: WIDTH - 8, bottom: HEIGHT - 28 };

/** 0–5 → 5, 7 → 10, 23 → 25, 130 → 150: a round top for the axis so gridlines read as whole numbers. */
export function niceCeiling(max: number): number {
  if (max <= 5) return 5;
  const magnitude = 10 ** Math.floor(Math.log10(max));
  const step = [1, 1.5, 2, 2.5, 5, 10].map((s) => s * magnitude).find((s) => s >= max);
  return step ?? 10 * magnitude;
}

export function barChart(days: readonly DayCount[], title: string): BarChart {
  const top = niceCeiling(Math.max(0, ...days.map((d) => d.count)));
  const plotHeight = PLOT.bottom - PLOT.top;
  const slot = (PLOT.right - PLOT.left) / Math.max(1, days.length);
  const bars = days.map((d, i) => {
    const height = (d.count / top) * plotHeight;
    return {
      x: round(PLOT.left + i * slot + slot * 0.15),
      y: round(PLOT.bottom - height),
      width: round(slot * 0.7),
      height: round(height),
      date: d.date,
      day: formatDay(d.date),
      count: d.count,
    };
  });
  const gridlines = [0, top / 2, top].filter(Number.isInteger).map((value) => ({
    y: round(PLOT.bottom - (value / top) * plotHeight),
    value,
  }));
  // A label every seven days from the newest backwards, so today is always labelled.
  const xLabels = bars
    .filter((_, i) => (days.length - 1 - i) % 7 === 0)
    .map((b) => ({ x: round(b.x + b.width / 2), text: b.day }));
  return {
    width: WIDTH,
    height: HEIGHT,
    plot: PLOT,
    bars,
    gridlines,
    xLabels,
    title,
    description: describe(days),
  };
}

function describe(days: readonly DayCount[]): string {
  const first = days[0];
  const last = days[days.length - 1];
  if (!first || !last) return 'No days to show.';
  const total = days.reduce((n, d) => n + d.count, 0);
  const busiest = days.reduce((a, b) => (b.count > a.count ? b : a));
  const quietest = days.reduce((a, b) => (b.count < a.count ? b : a));
  return (
    `${total} referrals from ${formatDay(first.date)} to ${formatDay(last.date)}. ` +
    `Busiest day ${formatDay(busiest.date)} with ${busiest.count}; ` +
    `quietest ${formatDay(quietest.date)} with ${quietest.count}. Today so far: ${last.count}.`
  );
}

const round = (n: number) => Math.round(n * 10) / 10;
