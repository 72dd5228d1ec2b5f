import { checkLinearizable, describeFault, eventText, type BlockOp, type HistoryEvent } from '@pxsim/checkers';
import { isNetworkFault } from '@pxsim/runtime';

/** One lane of the timeline: a node, in topology order. */
export interface TimelineNode {
  /** The node's key in the history (its IP). */
  id: string;
  /** What the lane is called (`us-east-1a/1`, or the IP). */
  label: string;
  domain: string;
}

/** A client operation drawn as a bar under the lanes (volume I/O once volumes exist, or any timed request). */
export interface TimelineOp {
  id: number;
  client: string;
  /** What it did, e.g. `write b3 = w17` or `read b3 -> w12`. */
  text: string;
  invokeMs: number;
  /** Undefined: the outcome is unknown (the bar runs to the end of the run). */
  completeMs?: number;
  outcome: 'ok' | 'failed' | 'unknown';
}

/** A linearizability violation (or any finding over operations): its operations are highlighted, it is explained. */
export interface TimelineViolation {
  explanation: string;
  opIds: readonly number[];
}

export interface TimelineInput {
  title: string;
  /** Lines for the header: the seed, the schedule, the command that replays the run. */
  subtitle?: readonly string[];
  nodes: readonly TimelineNode[];
  history: readonly HistoryEvent[];
  /** The end of the run, ms of (virtual or real) time; default: the last event's time. */
  endMs?: number;
  ops?: readonly TimelineOp[];
  violation?: TimelineViolation;
}

/** A node state's colour (the legend lists them); states not listed are grey. */
export const STATE_COLOURS: Readonly<Record<string, string>> = {
  Online: '#2e9d4b',
  'Out of Quorum': '#e8a317',
  Offline: '#c0392b',
  Initializing: '#7fb3d5',
  crashed: '#4a4a4a',
  paused: '#8e44ad',
  'not started': '#e0e0e0',
  down: '#4a4a4a',
};
const OTHER_STATE_COLOUR = '#b0b0b0';
const OP_COLOURS = { ok: '#3b6fb6', failed: '#9e9e9e', unknown: '#d35400' } as const;

const LANE_HEIGHT = 26;
const LABEL_WIDTH = 170;
const PLOT_WIDTH = 1100;
const TOP = 70;
const OP_HEIGHT = 8;
/** Operations drawn at most (a longer history keeps the first ones and says how many were left out). */
const OPS_DRAWN_MAX = 2000;

/** Escapes text for HTML and SVG (element content and attribute values). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

interface Scale {
  x(ms: number): number;
  endMs: number;
}

function scaleOf(input: TimelineInput): Scale {
  const last = input.history.reduce((max, event) => Math.max(max, event.atMs), 0);
  const lastOp = (input.ops ?? []).reduce((max, op) => Math.max(max, op.completeMs ?? op.invokeMs), 0);
  const endMs = Math.max(input.endMs ?? Math.max(last, lastOp), 1);
  return { endMs, x: (ms) => LABEL_WIDTH + (Math.min(Math.max(ms, 0), endMs) / endMs) * PLOT_WIDTH };
}

/** Each node's state segments: [from, to) with its state and the reason it entered it. */
function segments(
  input: TimelineInput,
  endMs: number,
): Map<string, Array<{ fromMs: number; toMs: number; state: string; reason: string }>> {
  const result = new Map<string, Array<{ fromMs: number; toMs: number; state: string; reason: string }>>();
  for (const node of input.nodes) result.set(node.id, [{ fromMs: 0, toMs: endMs, state: 'not started', reason: '' }]);
  for (const event of input.history) {
    if (event.kind !== 'state') continue;
    const lane = result.get(event.node);
    const open = lane?.[lane.length - 1];
    if (lane === undefined || open === undefined) continue;
    open.toMs = event.atMs;
    lane.push({ fromMs: event.atMs, toMs: endMs, state: event.to, reason: event.reason });
  }
  return result;
}

/** Network and kvdb faults as bands: from the event that applied them to the next heal (or the end). */
function faultBands(input: TimelineInput, endMs: number): Array<{ fromMs: number; toMs: number; text: string }> {
  const bands: Array<{ fromMs: number; toMs: number; text: string }> = [];
  let open: Array<{ fromMs: number; toMs: number; text: string }> = [];
  for (const event of input.history) {
    if (event.kind !== 'fault') continue;
    for (const fault of event.faults) {
      if (fault.kind === 'heal') {
        for (const band of open) band.toMs = event.atMs;
        open = [];
      } else if (isNetworkFault(fault)) {
        const band = { fromMs: event.atMs, toMs: endMs, text: event.label ?? describeFault(fault) };
        bands.push(band);
        open.push(band);
      }
    }
  }
  return bands;
}

function laneSvg(node: TimelineNode, index: number, input: TimelineInput, scale: Scale): string {
  const y = TOP + index * LANE_HEIGHT;
  const parts = [
    `<text class="label" x="6" y="${y + 17}">${escapeHtml(node.label)}</text>`,
    ...(segments(input, scale.endMs).get(node.id) ?? []).map((segment) => {
      const x = scale.x(segment.fromMs);
      const width = Math.max(scale.x(segment.toMs) - x, 0.5);
      const title = `${node.label}: ${segment.state} from ${segment.fromMs} ms to ${segment.toMs} ms${segment.reason === '' ? '' : ` (${segment.reason})`}`;
      return (
        `<rect class="state" data-state="${escapeHtml(segment.state)}" x="${x.toFixed(1)}" y="${y + 3}" ` +
        `width="${width.toFixed(1)}" height="${LANE_HEIGHT - 6}" fill="${STATE_COLOURS[segment.state] ?? OTHER_STATE_COLOUR}">` +
        `<title>${escapeHtml(title)}</title></rect>`
      );
    }),
  ];
  return `<g class="lane" data-node="${escapeHtml(node.id)}">${parts.join('')}</g>`;
}

/** Operator actions and checker findings as markers on their own rows above the lanes. */
function markersSvg(input: TimelineInput, scale: Scale): string {
  const parts: string[] = [];
  for (const event of input.history) {
    if (event.kind !== 'operator' && event.kind !== 'check') continue;
    const x = scale.x(event.atMs).toFixed(1);
    const operator = event.kind === 'operator';
    const y = operator ? 40 : 56;
    const text = `${event.atMs} ms: ${eventText(event)}`;
    parts.push(
      `<g class="${operator ? 'operator' : 'finding'}"><line x1="${x}" x2="${x}" y1="${y}" y2="${TOP + input.nodes.length * LANE_HEIGHT}" ` +
        `class="${operator ? 'operator-line' : 'finding-line'}"/><circle cx="${x}" cy="${y}" r="5">` +
        `<title>${escapeHtml(text)}</title></circle></g>`,
    );
  }
  return parts.join('');
}

function bandsSvg(input: TimelineInput, scale: Scale): string {
  const height = input.nodes.length * LANE_HEIGHT;
  return faultBands(input, scale.endMs)
    .map((band, index) => {
      const x = scale.x(band.fromMs);
      const width = Math.max(scale.x(band.toMs) - x, 1);
      const title = `${band.text}: ${band.fromMs} ms to ${band.toMs} ms`;
      return (
        `<g class="fault"><rect x="${x.toFixed(1)}" y="${TOP}" width="${width.toFixed(1)}" height="${height}" class="band">` +
        `<title>${escapeHtml(title)}</title></rect><text class="band-label" x="${(x + 3).toFixed(1)}" ` +
        `y="${TOP + height + 14 + (index % 3) * 12}">${escapeHtml(band.text)}</text></g>`
      );
    })
    .join('');
}

function opsSvg(input: TimelineInput, scale: Scale, top: number): { svg: string; height: number } {
  const ops = (input.ops ?? []).slice(0, OPS_DRAWN_MAX);
  const clients = [...new Set(ops.map((op) => op.client))];
  const highlighted = new Set(input.violation?.opIds ?? []);
  const parts = clients.map(
    (client, index) =>
      `<text class="label" x="6" y="${top + index * (OP_HEIGHT + 6) + OP_HEIGHT}">${escapeHtml(client)}</text>`,
  );
  for (const op of ops) {
    const row = clients.indexOf(op.client);
    const x = scale.x(op.invokeMs);
    const width = Math.max(scale.x(op.completeMs ?? scale.endMs) - x, 1.5);
    const title = `#${op.id} ${op.client}: ${op.text} (${op.outcome}) invoked ${op.invokeMs} ms, ${op.completeMs === undefined ? 'no answer' : `answered ${op.completeMs} ms`}`;
    parts.push(
      `<rect class="op${highlighted.has(op.id) ? ' violating' : ''}" data-op="${op.id}" x="${x.toFixed(1)}" ` +
        `y="${top + row * (OP_HEIGHT + 6)}" width="${width.toFixed(1)}" height="${OP_HEIGHT}" fill="${OP_COLOURS[op.outcome]}">` +
        `<title>${escapeHtml(title)}</title></rect>`,
    );
  }
  return { svg: parts.join(''), height: clients.length * (OP_HEIGHT + 6) };
}

function axisSvg(scale: Scale, y: number): string {
  const ticks: string[] = [];
  const step = niceStep(scale.endMs / 10);
  for (let ms = 0; ms <= scale.endMs; ms += step) {
    const x = scale.x(ms).toFixed(1);
    ticks.push(`<line x1="${x}" x2="${x}" y1="${TOP - 4}" y2="${y}" class="tick"/>`);
    ticks.push(`<text class="tick-label" x="${x}" y="${TOP - 8}">${formatMs(ms)}</text>`);
  }
  return ticks.join('');
}

function niceStep(rough: number): number {
  const power = 10 ** Math.floor(Math.log10(Math.max(rough, 1)));
  const [step] = [1, 2, 5, 10].map((factor) => factor * power).filter((candidate) => candidate >= rough);
  return step ?? power * 10;
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toLocaleString('en-US')} s` : `${ms} ms`;
}

const STYLE = `
body { font: 13px system-ui, sans-serif; margin: 16px; color: #222; }
h1 { font-size: 18px; margin: 0 0 4px; } .sub { color: #555; font-family: monospace; white-space: pre-wrap; }
.label { font: 12px monospace; fill: #222; } .tick { stroke: #eee; } .tick-label { font: 10px sans-serif; fill: #777; text-anchor: middle; }
.band { fill: rgba(200, 30, 30, 0.10); stroke: rgba(200, 30, 30, 0.5); stroke-dasharray: 4 3; }
.band-label { font: 10px sans-serif; fill: #a33; }
.operator circle { fill: #1f5fbf; } .operator-line { stroke: #1f5fbf; stroke-dasharray: 2 3; }
.finding circle { fill: #d00; } .finding-line { stroke: #d00; stroke-width: 1.5; }
.op.violating { stroke: #d00; stroke-width: 2; }
.legend span { display: inline-block; margin-right: 12px; } .legend i { display: inline-block; width: 12px; height: 12px; vertical-align: middle; margin-right: 4px; }
.violation { border: 2px solid #d00; padding: 8px; margin: 8px 0; background: #fff4f4; }
table { border-collapse: collapse; margin-top: 12px; } td { padding: 2px 8px; border-bottom: 1px solid #eee; font-family: monospace; }
`;

function legendHtml(): string {
  const states = Object.entries(STATE_COLOURS).map(
    ([state, colour]) => `<span><i style="background:${colour}"></i>${escapeHtml(state)}</span>`,
  );
  const others = [
    '<span><i style="background:rgba(200,30,30,0.25)"></i>fault (network or kvdb link)</span>',
    '<span><i style="background:#1f5fbf;border-radius:6px"></i>operator action</span>',
    '<span><i style="background:#d00;border-radius:6px"></i>checker finding</span>',
  ];
  return `<div class="legend">${[...states, ...others].join('')}</div>`;
}

/** The findings and operator actions, in words, under the picture (what a reader greps for). */
function eventsTable(input: TimelineInput): string {
  const rows = input.history
    .filter((event) => event.kind !== 'state')
    .map(
      (event) =>
        `<tr class="${event.kind}"><td>${event.atMs} ms</td><td>${event.kind}</td><td>${escapeHtml(eventText(event))}</td></tr>`,
    );
  return rows.length === 0 ? '' : `<table>${rows.join('')}</table>`;
}

/**
 * One self-contained HTML page (inline SVG and CSS, no script, no network) showing a run: a lane per node with its
 * state over time, faults as shaded bands named by the fault vocabulary, operator actions and checker findings as
 * markers, client operations as bars (a violation's operations outlined in red and explained in words). Every text
 * from the run is escaped.
 */
export function renderTimeline(input: TimelineInput): string {
  const scale = scaleOf(input);
  const lanesBottom = TOP + input.nodes.length * LANE_HEIGHT;
  const opsTop = lanesBottom + 56;
  const ops = opsSvg(input, scale, opsTop);
  const height = opsTop + ops.height + 20;
  const svg =
    `<svg width="${LABEL_WIDTH + PLOT_WIDTH + 20}" height="${height}" role="img" ` +
    `aria-label="timeline">${axisSvg(scale, lanesBottom)}${input.nodes.map((node, index) => laneSvg(node, index, input, scale)).join('')}` +
    `${bandsSvg(input, scale)}${markersSvg(input, scale)}${ops.svg}</svg>`;
  const violation =
    input.violation === undefined
      ? ''
      : `<div class="violation"><b>Violation:</b> ${escapeHtml(input.violation.explanation)}</div>`;
  const left = (input.ops?.length ?? 0) - OPS_DRAWN_MAX;
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(input.title)}</title>` +
    `<style>${STYLE}</style></head><body><h1>${escapeHtml(input.title)}</h1>` +
    `<div class="sub">${(input.subtitle ?? []).map(escapeHtml).join('\n')}</div>${legendHtml()}${violation}${svg}` +
    `${left > 0 ? `<p>${left} more operations not drawn.</p>` : ''}${eventsTable(input)}</body></html>\n`
  );
}

/** Lanes for a simulation's nodes, labelled `domain/i` (1-based within the domain) as scenarios name them. */
export function timelineNodes(specs: ReadonlyArray<{ ip: string; domain: string }>): TimelineNode[] {
  const seen = new Map<string, number>();
  return specs.map((spec) => {
    const index = (seen.get(spec.domain) ?? 0) + 1;
    seen.set(spec.domain, index);
    return { id: spec.ip, label: `${spec.domain}/${index} ${spec.ip}`, domain: spec.domain };
  });
}

/**
 * A run's volume operations as timeline bars, and (when the history is not linearizable) the violation: the shortest
 * failing slice's operations highlighted, the checker's explanation in words.
 */
export function blockOpsTimeline(ops: readonly BlockOp[]): { ops: TimelineOp[]; violation?: TimelineViolation } {
  const bars = ops.map((op): TimelineOp => ({
    id: op.id,
    client: op.client,
    text:
      op.kind === 'write'
        ? `write ${op.volume} b${op.block} = ${op.value}`
        : `read ${op.volume} b${op.block} -> ${op.value === '' ? '(empty)' : op.value}`,
    invokeMs: op.invokeMs,
    ...(op.completeMs === undefined ? {} : { completeMs: op.completeMs }),
    outcome: op.outcome,
  }));
  const verdict = checkLinearizable(ops);
  if (verdict.ok !== false) return { ops: bars };
  return { ops: bars, violation: { explanation: verdict.explanation, opIds: verdict.slice.map((op) => op.id) } };
}
