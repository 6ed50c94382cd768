export interface ChartRow {
  name: string;
  rps: number;
  p99: number;
}

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Two horizontal bar charts side by side (throughput, p99) as a standalone SVG. */
export function renderChart(rows: ChartRow[]): string {
  const rowHeight = 28;
  const labelWidth = 220;
  const barWidth = 300;
  const top = 40;
  const height = top + rows.length * rowHeight + 20;
  const width = labelWidth + 2 * (barWidth + 90);
  const maxRps = Math.max(...rows.map((r) => r.rps), 1);
  const maxP99 = Math.max(...rows.map((r) => r.p99), 1);
  const bars = rows.map((r, i) => {
    const y = top + i * rowHeight;
    const w1 = (r.rps / maxRps) * barWidth;
    const x2 = labelWidth + barWidth + 90;
    const w2 = (r.p99 / maxP99) * barWidth;
    return [
      `<text x="${labelWidth - 8}" y="${y + 17}" text-anchor="end">${escape(r.name)}</text>`,
      `<rect x="${labelWidth}" y="${y + 4}" width="${w1.toFixed(1)}" height="18" fill="#3b82f6"/>`,
      `<text x="${(labelWidth + w1 + 4).toFixed(1)}" y="${y + 17}">${Math.round(r.rps)}</text>`,
      `<rect x="${x2}" y="${y + 4}" width="${w2.toFixed(1)}" height="18" fill="#f97316"/>`,
      `<text x="${(x2 + w2 + 4).toFixed(1)}" y="${y + 17}">${r.p99} ms</text>`,
    ].join('');
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${labelWidth}" y="20" font-weight="bold">throughput (req/s, median)</text>`,
    `<text x="${labelWidth + barWidth + 90}" y="20" font-weight="bold">p99 latency (ms, median)</text>`,
    ...bars,
    '</svg>',
    '',
  ].join('\n');
}
