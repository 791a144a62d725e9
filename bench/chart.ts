import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The parts of bench/results/latest.json the chart draws. */
export interface ChartInput {
  date: string;
  command: string;
  manyConnections: { tool: string; connections: number; target: string; opsPerSec: number }[];
  loadResults: { target: string; protocol: string; opsPerSec: number }[];
  proxy: { load: { load: string; target: string; opsPerSec: number }[] };
}

interface Bar {
  label: string;
  value: number;
}

interface Group {
  title: string;
  bars: Bar[];
}

interface Panel {
  title: string;
  groups: Group[];
}

const WIDTH = 900;
const LABEL_WIDTH = 190;
const BAR_HEIGHT = 16;
const BAR_GAP = 4;
const GROUP_GAP = 14;
const PANEL_GAP = 26;
const VALUE_WIDTH = 90;

/** The project's engines in the project's colours; what we are compared with in greys. */
function colour(label: string): string {
  if (label.startsWith('native') || label === 'proxy (native)') return '#1f6feb';
  if (label.startsWith('ts') || label === 'proxy (ts)') return '#79b8ff';
  if (label.startsWith('memcached')) return '#6e7781';
  if (label.startsWith('twemproxy')) return '#8c959f';
  return '#afb8c1';
}

const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function opsText(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)} M/s` : n >= 1e4 ? `${Math.round(n / 1e3)} k/s` : `${Math.round(n)}/s`;
}

/** The panels: the many-connections shape first (most production traffic), then pipelined, then the proxy. */
export function chartPanels(r: ChartInput): Panel[] {
  const panels: Panel[] = [];
  const many = r.manyConnections;
  const tools = [...new Set(many.map((m) => m.tool))];
  const groups: Group[] = [];
  for (const tool of tools) {
    for (const c of [...new Set(many.filter((m) => m.tool === tool).map((m) => m.connections))]) {
      const rows = many.filter((m) => m.tool === tool && m.connections === c);
      const name = tool === 'memcaslap' ? `memcaslap -T 1 -c ${c}` : `load generator ${c} x 1`;
      groups.push({ title: name, bars: rows.map((m) => ({ label: m.target, value: m.opsPerSec })) });
    }
  }
  if (groups.length > 0) panels.push({ title: 'Many connections, one request in flight each (ops/s)', groups });
  const protocols: Record<string, string> = { text: 'get/set', meta: 'mg v / ms', binary: 'binary get/set' };
  const pipelined = Object.keys(protocols)
    .map((p) => ({ title: `4 conns x 32 pipelined, ${protocols[p]}`, bars: r.loadResults.filter((l) => l.protocol === p).map((l) => ({ label: l.target, value: l.opsPerSec })) }))
    .filter((g) => g.bars.length > 0);
  if (pipelined.length > 0) panels.push({ title: 'Pipelined (ops/s)', groups: pipelined });
  const proxyLoads = [...new Set(r.proxy.load.map((l) => l.load))];
  const proxied = proxyLoads.map((load) => ({ title: load, bars: r.proxy.load.filter((l) => l.load === load).map((l) => ({ label: l.target, value: l.opsPerSec })) }));
  const twemproxy = r.proxy.load.some((l) => l.target.startsWith('twemproxy'));
  const against = twemproxy ? 'against the backend directly and twemproxy' : 'against the backend directly (twemproxy was not installed for this run)';
  if (proxied.length > 0) panels.push({ title: `Through a proxy, ${against} (ops/s)`, groups: proxied });
  return panels;
}

/**
 * The benchmark's throughput as an SVG of horizontal bars: a panel per kind of load, a group
 * per load shape, a bar per target, each group scaled to its own largest bar (the figures
 * that matter are the ratios inside a group, measured side by side in one run).
 */
export function renderChart(r: ChartInput): string {
  const panels = chartPanels(r);
  const out: string[] = [];
  let y = 60;
  const barsWidth = WIDTH - LABEL_WIDTH - VALUE_WIDTH - 20;
  for (const panel of panels) {
    out.push(`<text x="10" y="${y}" class="panel">${escape(panel.title)}</text>`);
    y += 14;
    for (const g of panel.groups) {
      out.push(`<text x="10" y="${y + 12}" class="group">${escape(g.title)}</text>`);
      y += 18;
      const max = Math.max(...g.bars.map((b) => b.value), 1);
      for (const b of g.bars) {
        const w = Math.max(1, Math.round((b.value / max) * barsWidth));
        out.push(
          `<text x="${LABEL_WIDTH - 8}" y="${y + 12}" class="label">${escape(b.label)}</text>`,
          `<rect x="${LABEL_WIDTH}" y="${y}" width="${w}" height="${BAR_HEIGHT}" fill="${colour(b.label)}" data-ops="${Math.round(b.value)}"/>`,
          `<text x="${LABEL_WIDTH + w + 6}" y="${y + 12}" class="value">${opsText(b.value)}</text>`,
        );
        y += BAR_HEIGHT + BAR_GAP;
      }
      y += GROUP_GAP;
    }
    y += PANEL_GAP;
  }
  const height = y;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif">`,
    `<style>.title{font-size:16px;font-weight:bold}.panel{font-size:14px;font-weight:bold}.group{font-size:12px;fill:#57606a}.label{font-size:12px;text-anchor:end}.value{font-size:11px;fill:#24292f}.note{font-size:11px;fill:#57606a}</style>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="10" y="22" class="title">memcache-ha-native: throughput by target and load shape</text>`,
    `<text x="10" y="38" class="note">${escape(`${r.command}, ${r.date.slice(0, 10)}; the targets of a group measured side by side in one run, each group scaled to its largest bar`)}</text>`,
    ...out,
    `</svg>`,
    '',
  ].join('\n');
}

/** bench/results/latest.svg from the results just written (or, run alone, from the last run's). */
export function writeChart(resultsDir: string): string {
  const path = join(resultsDir, 'latest.svg');
  writeFileSync(path, renderChart(JSON.parse(readFileSync(join(resultsDir, 'latest.json'), 'utf8')) as ChartInput));
  return path;
}

if (require.main === module) {
  process.stdout.write(`written to ${writeChart(join(__dirname, '..', '..', 'bench', 'results'))}\n`);
}
