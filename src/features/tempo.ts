/**
 * Speech tempo over one window, after de Jong & Wempe (2009): syllable
 * nuclei are intensity peaks in voiced speech that stand ≥ 2 dB above the
 * dip separating them from the previous peak, and lie within 25 dB of the
 * window's loudest speech frame. Also voiced-segment rate and length and
 * the share of pauses inside the speech.
 */
import { FEATURE_CONFIG } from './feature-names.js';
import type { FrameHistory } from './frame-history.js';

const FRAME_S = FEATURE_CONFIG.hopSamples / FEATURE_CONFIG.sampleRate;
/** A peak must rise this far above the preceding dip (dB). */
const MIN_DIP_DB = 2;
/** Peaks more than this below the window's loudest speech frame are ignored (dB). */
const SILENCE_BELOW_MAX_DB = 25;
/** Voiced runs shorter than this (frames) are not segments. */
const MIN_VOICED_RUN = 2;

export interface TempoResult {
  /** Syllable nuclei per second of window. */
  sylRate: number;
  /** Syllable nuclei per second of speech (articulation rate); 0 without speech. */
  articRate: number;
  /** Voiced segments per second of window. */
  voicedSegRate: number;
  /** Mean voiced segment length (s); 0 without segments. */
  voicedSegMeanS: number;
  /** Standard deviation of voiced segment lengths (s); 0 with fewer than two segments. */
  voicedSegStdS: number;
  /** Mean length (s) of the gaps between consecutive voiced segments; 0 without gaps. */
  unvoicedSegMeanS: number;
  /** Non-speech frames between the first and last speech frame, as a share of that span. */
  pauseRatio: number;
  /** Speech frames / window frames. */
  speechRatio: number;
  speechFrames: number;
  nuclei: number;
}

export class TempoAnalyzer {
  readonly result: TempoResult = {
    sylRate: 0,
    articRate: 0,
    voicedSegRate: 0,
    voicedSegMeanS: 0,
    voicedSegStdS: 0,
    unvoicedSegMeanS: 0,
    pauseRatio: 0,
    speechRatio: 0,
    speechFrames: 0,
    nuclei: 0,
  };
  private readonly intensity: Float64Array;

  constructor(maxFrames = FEATURE_CONFIG.framesPerWindow) {
    this.intensity = new Float64Array(maxFrames);
  }

  /** Analyzes `count` frames of `h` starting at absolute frame `first`. */
  analyze(h: FrameHistory, first: number, count: number): TempoResult {
    const m = h.mask;
    const I = this.intensity;
    // Light smoothing [¼ ½ ¼] so single-frame ripples are not peaks.
    for (let i = 0; i < count; i++) {
      const c = h.energyDb[(first + i) & m]!;
      const l = i > 0 ? h.energyDb[(first + i - 1) & m]! : c;
      const r = i < count - 1 ? h.energyDb[(first + i + 1) & m]! : c;
      I[i] = 0.25 * l + 0.5 * c + 0.25 * r;
    }
    let speechFrames = 0;
    let maxSpeech = Number.NEGATIVE_INFINITY;
    let firstSpeech = -1;
    let lastSpeech = -1;
    for (let i = 0; i < count; i++) {
      if (h.speech[(first + i) & m] === 1) {
        speechFrames++;
        if (I[i]! > maxSpeech) maxSpeech = I[i]!;
        if (firstSpeech < 0) firstSpeech = i;
        lastSpeech = i;
      }
    }
    const floor = maxSpeech - SILENCE_BELOW_MAX_DB;
    let nuclei = 0;
    let dip = I[0]!;
    for (let i = 1; i < count - 1; i++) {
      const v = I[i]!;
      if (v < dip) dip = v;
      const slot = (first + i) & m;
      const isPeak = v > I[i - 1]! && v >= I[i + 1]!;
      if (isPeak && v > floor && h.speech[slot] === 1 && h.voiced[slot] === 1 && v - dip >= MIN_DIP_DB) {
        nuclei++;
        dip = v;
      }
    }
    let runs = 0;
    let runFrames = 0;
    let runSq = 0;
    let run = 0;
    let gaps = 0;
    let gapFrames = 0;
    /** Frame after the last counted segment (-1 before the first). */
    let lastEnd = -1;
    for (let i = 0; i <= count; i++) {
      const slot = (first + i) & m;
      const on = i < count && h.voiced[slot] === 1 && h.speech[slot] === 1;
      if (on) run++;
      else {
        if (run >= MIN_VOICED_RUN) {
          runs++;
          runFrames += run;
          runSq += run * run;
          if (lastEnd >= 0) {
            gaps++;
            gapFrames += i - run - lastEnd;
          }
          lastEnd = i;
        }
        run = 0;
      }
    }
    const windowS = count * FRAME_S;
    const r = this.result;
    r.speechFrames = speechFrames;
    r.nuclei = nuclei;
    r.speechRatio = count > 0 ? speechFrames / count : 0;
    r.sylRate = windowS > 0 ? nuclei / windowS : 0;
    r.articRate = speechFrames > 0 ? nuclei / (speechFrames * FRAME_S) : 0;
    r.voicedSegRate = windowS > 0 ? runs / windowS : 0;
    r.voicedSegMeanS = runs > 0 ? (runFrames / runs) * FRAME_S : 0;
    if (runs >= 2) {
      const mean = runFrames / runs;
      r.voicedSegStdS = Math.sqrt(Math.max(0, runSq / runs - mean * mean)) * FRAME_S;
    } else r.voicedSegStdS = 0;
    r.unvoicedSegMeanS = gaps > 0 ? (gapFrames / gaps) * FRAME_S : 0;
    const span = lastSpeech - firstSpeech + 1;
    r.pauseRatio = firstSpeech >= 0 ? (span - speechFrames) / span : 0;
    return r;
  }
}
