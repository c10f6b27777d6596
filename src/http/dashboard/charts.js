// uPlot chart options for the cards' live charts and the call detail's
// timeline. uPlot is the global the bundled uPlot.iife.min.js defines.
import { fmtDuration } from './format.js';

/** Width of a card's live chart, seconds of call audio. */
const SPARK_WINDOW_S = 300;
export const SPARK_HEIGHT = 64;
export const DETAIL_HEIGHT = 260;

const COLORS = { agitation: '#f4f6fb', anger: '#ff6b81', arousal: '#7aa2f7', tier: '#c89bff' };
const TIER_FILL = { 1: 'rgba(63,182,139,0.28)', 2: 'rgba(232,181,49,0.30)', 3: 'rgba(245,124,43,0.34)', 4: 'rgba(240,56,79,0.40)' };

/** A card's chart: agitation (filled in the call's tier colour) and anger over the last minutes. */
export function sparkOptions(call, width) {
  return {
    width,
    height: SPARK_HEIGHT,
    cursor: { show: false },
    legend: { show: false },
    select: { show: false },
    scales: {
      // The last SPARK_WINDOW_S of the call; a young call fills the first minute from the left.
      x: { time: false, range: (_u, _min, max) => [Math.max(0, max - SPARK_WINDOW_S), Math.max(max, 60)] },
      y: { range: [0, 1] },
    },
    axes: [{ show: false }, { show: false }],
    series: [
      {},
      { label: 'agitation', stroke: COLORS.agitation, width: 2, fill: () => TIER_FILL[call.info.tier] ?? TIER_FILL[1], points: { show: false } },
      { label: 'anger', stroke: COLORS.anger, width: 1.25, points: { show: false } },
    ],
  };
}

export const sparkData = (call) => [call.series.t, call.series.agitation, call.series.anger];

const axisStyle = { stroke: '#9aa6b8', grid: { stroke: 'rgba(255,255,255,0.07)' }, ticks: { stroke: 'rgba(255,255,255,0.12)' } };

/** The detail timeline: agitation (what the policy acts on), anger, arousal, and the tier as steps. */
export function detailOptions(width) {
  return {
    width,
    height: DETAIL_HEIGHT,
    scales: { x: { time: false }, y: { range: [0, 1] }, tier: { range: [0.5, 4.5] } },
    axes: [
      // Whole seconds and minutes of call time, so labels read 0:10, 0:20, … not 0:07.
      { ...axisStyle, incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600], values: (_u, splits) => splits.map((s) => fmtDuration(s * 1000)) },
      { ...axisStyle, label: 'score', values: (_u, splits) => splits.map((s) => s.toFixed(1)) },
      { ...axisStyle, scale: 'tier', side: 1, label: 'tier', grid: { show: false }, splits: () => [1, 2, 3, 4], values: (_u, splits) => splits.map((s) => `T${s}`) },
    ],
    series: [
      { label: 'call time', value: (_u, v) => (v == null ? '–' : fmtDuration(v * 1000)) },
      { label: 'agitation', stroke: COLORS.agitation, width: 3, fill: 'rgba(244,246,251,0.08)', points: { show: false } },
      { label: 'anger', stroke: COLORS.anger, width: 1.5, points: { show: false } },
      { label: 'arousal', stroke: COLORS.arousal, width: 1.5, dash: [6, 4], points: { show: false } },
      { label: 'tier', scale: 'tier', stroke: COLORS.tier, width: 2, paths: uPlot.paths.stepped({ align: 1 }), points: { show: false }, value: (_u, v) => (v == null ? '–' : `T${v}`) },
    ],
  };
}

export const detailData = (call) => [call.series.t, call.series.agitation, call.series.anger, call.series.arousal, call.series.tier];
