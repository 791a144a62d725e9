import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { renderChart, type ChartInput } from '../../bench/chart';
import { REPO_ROOT } from '../helpers/servers';

const test = suite('bench chart');
const results = JSON.parse(readFileSync(join(REPO_ROOT, 'bench', 'results', 'latest.json'), 'utf8')) as ChartInput;

/** Every element closed, in order (the chart is one document a browser must parse). */
function assertWellFormed(svg: string): void {
  const open: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-z]+)[^>]*?(\/?)>/g)) {
    if (m[3] === '/') continue;
    if (m[1] === '/') assert.is(open.pop(), m[2], `</${m[2]}> closes what was opened`);
    else open.push(m[2]!);
  }
  assert.equal(open, [], 'every element closed');
  assert.not.match(svg.replace(/&(amp|lt|gt|quot);/g, ''), /&/, 'every & escaped');
}

/** The bars of the chart in order: target label and width. */
function bars(svg: string): { label: string; width: number; ops: number }[] {
  return [...svg.matchAll(/class="label">([^<]+)<\/text>\n<rect x="\d+" y="\d+" width="(\d+)" height="\d+" fill="#[0-9a-f]{6}" data-ops="(\d+)"\/>/g)].map((m) => ({
    label: m[1]!.replace(/&amp;/g, '&'), width: Number(m[2]), ops: Number(m[3]),
  }));
}

test('the last run\'s results draw as a well-formed SVG: every measured target a bar, bars in a group in proportion', () => {
  const svg = renderChart(results);
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  assertWellFormed(svg);
  const drawn = bars(svg);
  assert.is(drawn.length, results.manyConnections.length + results.loadResults.length + results.proxy.load.length);
  // The many-connections shape leads.
  assert.is(drawn[0]!.label, results.manyConnections[0]!.target);
  assert.is(drawn[0]!.ops, Math.round(results.manyConnections[0]!.opsPerSec));
  // memcaslap -c 32: native and memcached side by side, widths as their throughputs.
  const group = results.manyConnections.filter((m) => m.tool === results.manyConnections[0]!.tool && m.connections === results.manyConnections[0]!.connections);
  const max = Math.max(...group.map((m) => m.opsPerSec));
  group.forEach((m, i) => assert.ok(Math.abs(drawn[i]!.width - (m.opsPerSec / max) * 600) <= 1, `${m.target}: width ${drawn[i]!.width}`));
});

test('twemproxy, when the run had it, is a bar beside the proxy; when not, the chart says so', () => {
  const without = renderChart({ ...results, proxy: { load: [{ load: '16 conns x 1', target: 'proxy (native)', opsPerSec: 50_000 }] } });
  assert.match(without, /twemproxy was not installed for this run/);
  const withIt = renderChart({
    ...results,
    proxy: { load: [{ load: '16 conns x 1 <&">', target: 'proxy (native)', opsPerSec: 60_000 }, { load: '16 conns x 1 <&">', target: 'twemproxy (nutcracker)', opsPerSec: 40_000 }] },
  });
  assertWellFormed(withIt);
  assert.match(withIt, /16 conns x 1 &lt;&amp;&quot;&gt;/, 'text is escaped');
  assert.not.match(withIt, /not installed/);
  const last = bars(withIt).slice(-2);
  assert.equal(last.map((b) => [b.label, b.width]), [['proxy (native)', 600], ['twemproxy (nutcracker)', 400]]);
});

test.run();
