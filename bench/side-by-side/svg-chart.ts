import type { Comparison, Peer } from './report.js';
import { TARGETS } from './report.js';
import { SERVER_LABELS } from './servers.js';

const WIDTH = 900;
const LABEL_WIDTH = 330;
const BAR = 16;
const TOP = 56;
const PLOT = WIDTH - LABEL_WIDTH - 70;
const COLORS: Record<Peer, string> = { ws: '#3b6fb6', socketio: '#e08a2c', centrifugo: '#4a9a4a', 'centrifugo-history': '#8a4fb0' };

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
/** Ratios are drawn on a log scale from 10^-decades to 10^decades, 1 (even) in the middle. */
let decades = 2;
const x = (ratio: number) => {
  const log = Math.min(decades, Math.max(-decades, Math.log10(ratio)));
  return LABEL_WIDTH + ((log + decades) / (2 * decades)) * PLOT;
};

/**
 * A bar chart of Herald's ratios to each peer in the run, one row per figure, on a log scale around 1, with each
 * target's bound as a red tick. Plain SVG written here: no charting dependency for a few dozen rectangles.
 */
export function ratioChart(comparison: Comparison, title: string): string {
  // Files from before Comparison named its servers compared Herald with these two.
  const peers = (comparison.servers ?? ['ws', 'socketio']).filter((kind): kind is Peer => kind !== 'herald');
  const rows = comparison.figures.filter((figure) => figure.id !== 'churnGrowth' && peers.some((peer) => figure.ratios?.[peer] !== undefined));
  const ratios = rows.flatMap((figure) => peers.map((peer) => figure.ratios[peer])).filter((ratio): ratio is number => ratio! > 0);
  decades = Math.max(2, ...ratios.map((ratio) => Math.ceil(Math.abs(Math.log10(ratio)))));
  const row = 12 + peers.length * BAR;
  const height = TOP + rows.length * row + 50;
  // Legend entries side by side, each as wide as its text (about 6.5 px a character at 12 px).
  const legend: string[] = [];
  let at = 20;
  for (const peer of peers) {
    const text = `Herald / ${SERVER_LABELS[peer]}`;
    legend.push(`<rect x="${at}" y="30" width="12" height="12" fill="${COLORS[peer]}"/><text x="${at + 16}" y="40">${escape(text)}</text>`);
    at += 16 + Math.ceil(text.length * 6.5) + 18;
  }
  legend.push(`<line x1="${at}" y1="34" x2="${at}" y2="46" stroke="#c00" stroke-width="3"/><text x="${at + 6}" y="40">target bound</text>`);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${WIDTH / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${escape(title)}</text>`,
    ...legend,
  ];
  for (let power = -decades; power <= decades; power++) {
    const tick = 10 ** power;
    parts.push(
      `<line x1="${x(tick)}" y1="${TOP - 4}" x2="${x(tick)}" y2="${TOP + rows.length * row}" stroke="${tick === 1 ? '#000' : '#ddd'}"/>`,
      `<text x="${x(tick)}" y="${TOP + rows.length * row + 16}" text-anchor="middle">${power < 0 ? tick.toFixed(-power) : tick}x</text>`,
    );
  }
  parts.push(`<text x="${LABEL_WIDTH + PLOT / 2}" y="${height - 10}" text-anchor="middle" fill="#555">ratio, log scale (each row says which way is better)</text>`);
  rows.forEach((figure, index) => {
    const y = TOP + index * row;
    const middle = y + row / 2;
    parts.push(
      `<text x="${LABEL_WIDTH - 8}" y="${middle - 2}" text-anchor="end">${escape(figure.label)}</text>`,
      `<text x="${LABEL_WIDTH - 8}" y="${middle + 12}" text-anchor="end" fill="#777" font-size="11">${figure.better} is better</text>`,
    );
    peers.forEach((peer, slot) => {
      const ratio = figure.ratios[peer];
      const top = y + 6 + slot * BAR;
      if (ratio === undefined || !(ratio > 0)) return;
      const from = Math.min(x(1), x(ratio));
      const width = Math.max(1, Math.abs(x(ratio) - x(1)));
      parts.push(
        `<rect x="${from}" y="${top}" width="${width}" height="${BAR - 2}" fill="${COLORS[peer]}"/>`,
        `<text x="${x(ratio) + (ratio >= 1 ? 4 : -4)}" y="${top + 11}" text-anchor="${ratio >= 1 ? 'start' : 'end'}" font-size="11">${ratio.toFixed(2)}x</text>`,
      );
      const target = TARGETS.find((candidate) => candidate.figure === figure.id && candidate.against === peer);
      if (target) parts.push(`<line x1="${x(target.bound)}" y1="${top - 2}" x2="${x(target.bound)}" y2="${top + BAR}" stroke="#c00" stroke-width="3"/>`);
    });
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

export function chartTitle(connections: number, date: string): string {
  return `Herald against its peers, ${connections.toLocaleString('en-US')} connections (${date.slice(0, 10)})`;
}
