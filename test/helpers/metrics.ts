import http from 'node:http';
import type { Spawned } from './processes';
import { waitFor } from './processes';

// parse-prometheus-text-format ships no types: its output (prom2json's shape) as the tests read it.
const parsePrometheus = require('parse-prometheus-text-format') as (text: string) => Family[];

export interface Sample {
  value?: string;
  labels?: Record<string, string>;
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}

export interface Family {
  name: string;
  help: string;
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  metrics: Sample[];
}

export interface HttpReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** The metrics URL a node or proxy printed on its start-up line (`metrics=http://...`). */
export function metricsUrl(proc: Spawned): Promise<string> {
  return waitFor('the metrics URL on the start-up line', 10_000, () => /metrics=(http:\/\/\S+)/.exec(proc.stdout())?.[1]);
}

/** One HTTP request; the reply in full. */
export function httpRequest(url: string, method = 'GET', headers: Record<string, string> = {}): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no reply in 5 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** A scrape's body, checked to be Prometheus's text format. */
export async function scrapeText(url: string): Promise<string> {
  const r = await httpRequest(url);
  if (r.status !== 200) throw new Error(`GET ${url}: ${r.status}`);
  if (!/^text\/plain; version=0\.0\.4/.test(String(r.headers['content-type']))) throw new Error(`content-type ${r.headers['content-type']}`);
  return r.body;
}

/** Exposition text parsed by a Prometheus text-format parser, as families by name. */
export function families(text: string): Map<string, Family> {
  return new Map(parsePrometheus(text).map((f) => [f.name, f]));
}

/** A scrape, parsed. */
export async function scrape(url: string): Promise<Map<string, Family>> {
  return families(await scrapeText(url));
}

/**
 * One series of a histogram family (its buckets, count and sum), parsed. The parser keeps a
 * histogram's _sum and _count only when they carry no labels, and folds every series' buckets
 * into one: the series is taken out of the text alone, its labels other than `le` removed.
 */
export function histogram(text: string, name: string, labels: Record<string, string>): Sample {
  const own = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const lines = text.split('\n').filter((l) => l === `# TYPE ${name} histogram` || (l.startsWith(`${name}_`) && own.every((p) => l.includes(p))));
  const bare = lines.map((l) => l.replace(/\{([^}]*)\}/, (_m, inner: string) => {
    const le = /le="[^"]*"/.exec(inner);
    return le ? `{${le[0]}}` : '';
  }));
  const f = families(`${bare.join('\n')}\n`).get(name);
  if (!f || f.type !== 'HISTOGRAM' || f.metrics.length !== 1) throw new Error(`no histogram ${name}${JSON.stringify(labels)}`);
  return f.metrics[0]!;
}

/** The value of the sample of `name` whose labels include `labels`; throws when there is none. */
export function value(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const f = families.get(name);
  if (!f) throw new Error(`no metric ${name}`);
  const s = f.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  if (!s || s.value === undefined) throw new Error(`no sample ${name}${JSON.stringify(labels)}`);
  return Number(s.value);
}
