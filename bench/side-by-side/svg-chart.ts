import type { Comparison } from './report.js';
import { TARGETS } from './report.js';

const WIDTH = 860;
const LABEL_WIDTH = 300;
const ROW = 44;
const TOP = 56;
const PLOT = WIDTH - LABEL_WIDTH - 70;
const COLORS = { ws: '#3b6fb6', socketio: '#e08a2c' };

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
/** Ratios are drawn on a log scale from 10^-decades to 10^decades, 1 (even) in the middle. */
let decades = 2;
const x = (ratio: number) => {
  const log = Math.min(decades, Math.max(-decades, Math.log10(ratio)));
  return LABEL_WIDTH + ((log + decades) / (2 * decades)) * PLOT;
};

/**
 * A bar chart of Herald's ratios to bare ws and to Socket.IO, one row per figure, on a log scale around 1, with
 * each target's bound as a red tick. Plain SVG written here: no charting dependency for a dozen rectangles.
 */
export function ratioChart(comparison: Comparison, title: string): string {
  const rows = comparison.figures.filter((figure) => figure.id !== 'churnGrowth');
  const ratios = rows.flatMap((figure) => [figure.heraldOverWs, figure.heraldOverSocketio]).filter((ratio): ratio is number => ratio! > 0);
  decades = Math.max(2, ...ratios.map((ratio) => Math.ceil(Math.abs(Math.log10(ratio)))));
  const height = TOP + rows.length * ROW + 50;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${WIDTH / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${escape(title)}</text>`,
    `<rect x="${LABEL_WIDTH}" y="30" width="12" height="12" fill="${COLORS.ws}"/><text x="${LABEL_WIDTH + 16}" y="40">Herald / bare ws</text>`,
    `<rect x="${LABEL_WIDTH + 140}" y="30" width="12" height="12" fill="${COLORS.socketio}"/><text x="${LABEL_WIDTH + 156}" y="40">Herald / Socket.IO</text>`,
    `<line x1="${LABEL_WIDTH + 290}" y1="36" x2="${LABEL_WIDTH + 290}" y2="46" stroke="#c00" stroke-width="3"/><text x="${LABEL_WIDTH + 296}" y="40">target bound</text>`,
  ];
  for (let power = -decades; power <= decades; power++) {
    const tick = 10 ** power;
    parts.push(
      `<line x1="${x(tick)}" y1="${TOP - 4}" x2="${x(tick)}" y2="${TOP + rows.length * ROW}" stroke="${tick === 1 ? '#000' : '#ddd'}"/>`,
      `<text x="${x(tick)}" y="${TOP + rows.length * ROW + 16}" text-anchor="middle">${power < 0 ? tick.toFixed(-power) : tick}x</text>`,
    );
  }
  parts.push(`<text x="${LABEL_WIDTH + PLOT / 2}" y="${height - 10}" text-anchor="middle" fill="#555">ratio, log scale (each row says which way is better)</text>`);
  rows.forEach((figure, index) => {
    const y = TOP + index * ROW;
    parts.push(
      `<text x="${LABEL_WIDTH - 8}" y="${y + 18}" text-anchor="end">${escape(figure.label)}</text>`,
      `<text x="${LABEL_WIDTH - 8}" y="${y + 32}" text-anchor="end" fill="#777" font-size="11">${figure.better} is better</text>`,
    );
    const bars = [
      { ratio: figure.heraldOverWs, color: COLORS.ws, peer: 'ws', offset: 6 },
      { ratio: figure.heraldOverSocketio, color: COLORS.socketio, peer: 'socketio', offset: 22 },
    ] as const;
    for (const bar of bars) {
      if (bar.ratio === undefined || !(bar.ratio > 0)) continue;
      const from = Math.min(x(1), x(bar.ratio));
      const width = Math.max(1, Math.abs(x(bar.ratio) - x(1)));
      parts.push(
        `<rect x="${from}" y="${y + bar.offset}" width="${width}" height="14" fill="${bar.color}"/>`,
        `<text x="${x(bar.ratio) + (bar.ratio >= 1 ? 4 : -4)}" y="${y + bar.offset + 11}" text-anchor="${bar.ratio >= 1 ? 'start' : 'end'}" font-size="11">${bar.ratio.toFixed(2)}x</text>`,
      );
      const target = TARGETS.find((candidate) => candidate.figure === figure.id && candidate.against === bar.peer);
      if (target) parts.push(`<line x1="${x(target.bound)}" y1="${y + bar.offset - 2}" x2="${x(target.bound)}" y2="${y + bar.offset + 16}" stroke="#c00" stroke-width="3"/>`);
    }
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

export function chartTitle(connections: number, date: string): string {
  return `Herald against bare ws and Socket.IO, ${connections.toLocaleString('en-US')} connections (${date.slice(0, 10)})`;
}
