// The SVG chart of figure 4: one panel per contender, request latency over time on a log scale,
// the contender's token calls marked as vertical lines, failed requests in red.
import type { LatencySeries } from './figures/slow-endpoint';

const WIDTH = 900;
const PANEL = 86;
const LEFT = 170;
const RIGHT = 20;
const TOP = 40;
const MIN_MS = 1;
const MAX_MS = 5_000;

export function latencyChart(series: readonly LatencySeries[], seconds: number, title: string): string {
  const height = TOP + series.length * PANEL + 30;
  const x = (ms: number) => LEFT + (ms / (seconds * 1000)) * (WIDTH - LEFT - RIGHT);
  const y = (panel: number, latency: number) => {
    const clamped = Math.min(MAX_MS, Math.max(MIN_MS, latency));
    const fraction = Math.log10(clamped / MIN_MS) / Math.log10(MAX_MS / MIN_MS);
    return TOP + panel * PANEL + (PANEL - 14) * (1 - fraction) + 4;
  };
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${LEFT}" y="20" font-size="13" font-weight="bold">${escape(title)}</text>`,
    `<text x="${WIDTH - RIGHT}" y="20" text-anchor="end" fill="#555">latency, log scale; | token call; <tspan fill="#c62828">•</tspan> failed</text>`,
  ];
  series.forEach((s, panel) => {
    const top = TOP + panel * PANEL;
    parts.push(`<rect x="${LEFT}" y="${top}" width="${WIDTH - LEFT - RIGHT}" height="${PANEL - 10}" fill="#fafafa" stroke="#ddd"/>`);
    parts.push(`<text x="${LEFT - 8}" y="${top + PANEL / 2}" text-anchor="end" font-weight="bold">${escape(s.contender)}</text>`);
    for (const tick of [1, 10, 100, 1000]) {
      parts.push(`<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${y(panel, tick)}" y2="${y(panel, tick)}" stroke="#eee"/>`);
      parts.push(`<text x="${LEFT + 3}" y="${y(panel, tick) - 2}" fill="#999" font-size="9">${tick >= 1000 ? `${tick / 1000} s` : `${tick} ms`}</text>`);
    }
    for (const at of s.tokenCalls) {
      parts.push(`<line x1="${x(at).toFixed(1)}" x2="${x(at).toFixed(1)}" y1="${top}" y2="${top + PANEL - 10}" stroke="#1565c0" stroke-dasharray="3,2"/>`);
    }
    for (const [at, ms, ok] of s.samples) {
      parts.push(`<circle cx="${x(at).toFixed(1)}" cy="${y(panel, ms).toFixed(1)}" r="1.6" fill="${ok ? '#2e7d32' : '#c62828'}" fill-opacity="0.7"/>`);
    }
  });
  const axis = TOP + series.length * PANEL;
  for (let second = 0; second <= seconds; second += 5) {
    parts.push(`<text x="${x(second * 1000)}" y="${axis + 6}" text-anchor="middle" fill="#555">${second} s</text>`);
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
