/** Scales, ticks and SVG paths for the dashboard's time-series charts (drawn by hand, no chart library). */

/** One line of a chart. */
export interface ChartSeries {
  readonly id: string;
  readonly label: string;
  /** A CSS colour (custom properties allowed). */
  readonly color: string;
  readonly values: ReadonlyArray<number | null>;
  /** Shown in the legend next to the label (e.g. the sum over the range). */
  readonly total?: number;
}

/** Round tick values from 0 to at least `max`: 0, 5, 10, … or 0, 2000, 4000, … */
export function niceTicks(max: number, target = 4): number[] {
  if (!(max > 0)) return [0, 1];
  const rough = max / target;
  const mag = 10 ** Math.floor(Math.log10(rough));
  const norm = rough / mag;
  const step = Math.max(1, (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10) * mag);
  const ticks: number[] = [];
  for (let v = 0; v < max + step * 0.999; v += step) ticks.push(Math.round(v * 1e6) / 1e6);
  if (ticks.length < 2) ticks.push(step);
  return ticks;
}

/** A linear map from a domain to a pixel range. */
export function linear(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const span = d1 - d0 || 1;
  return (v) => r0 + ((v - d0) / span) * (r1 - r0);
}

/** An SVG path through the points; a null value breaks the line. */
export function linePath(values: ReadonlyArray<number | null>, x: (i: number) => number, y: (v: number) => number): string {
  let d = '';
  let run = 0;
  values.forEach((v, i) => {
    if (v === null || !Number.isFinite(v)) {
      // A lone point draws nothing as a line: a zero-length segment with round caps shows it as a dot.
      if (run === 1) d += 'h0.01';
      run = 0;
      return;
    }
    d += `${run > 0 ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
    run++;
  });
  if (run === 1) d += 'h0.01';
  return d;
}

/** A closed area under the line down to `baseY`, one piece per unbroken run of values. */
export function areaPath(values: ReadonlyArray<number | null>, x: (i: number) => number, y: (v: number) => number, baseY: number): string {
  let d = '';
  let run: number[] = [];
  const flush = (): void => {
    if (run.length === 0) return;
    const first = run[0]!;
    const last = run[run.length - 1]!;
    d += `M${x(first).toFixed(1)},${baseY.toFixed(1)}`;
    for (const i of run) d += `L${x(i).toFixed(1)},${y(values[i]!).toFixed(1)}`;
    d += `L${x(last).toFixed(1)},${baseY.toFixed(1)}Z`;
    run = [];
  };
  values.forEach((v, i) => {
    if (v === null || !Number.isFinite(v)) flush();
    else run.push(i);
  });
  flush();
  return d;
}

/** Indices of about `count` evenly spaced x labels among `n` buckets (always including the last). */
export function labelIndices(n: number, count: number): number[] {
  if (n <= 0) return [];
  if (n <= count) return Array.from({ length: n }, (_, i) => i);
  const step = Math.ceil((n - 1) / (count - 1));
  const out: number[] = [];
  for (let i = 0; i < n; i += step) out.push(i);
  if (out[out.length - 1] !== n - 1) {
    // Replace a last label that would crowd the final one.
    if (n - 1 - out[out.length - 1]! < step / 2) out.pop();
    out.push(n - 1);
  }
  return out;
}

/** The bucket index nearest to pixel `px`. */
export function nearestIndex(px: number, n: number, x0: number, x1: number): number {
  if (n <= 1) return 0;
  const i = Math.round(((px - x0) / (x1 - x0 || 1)) * (n - 1));
  return Math.max(0, Math.min(n - 1, i));
}
