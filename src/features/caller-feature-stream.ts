/**
 * The per-call streaming feature extractor (`CallerFeatureStream`).
 *
 * Samples → telephone band-pass (300–3400 Hz) → 256-sample frames every
 * 160 samples → level; for frames above the activity gate, FFT and tone
 * detector and YIN pitch (on the band low-passed at 1 kHz, with its envelope
 * for the octave check) → voice activity → for speech frames, the rest of
 * the spectral features (Meyda-style shape, MFCC, …) and for voiced speech
 * frames the formants → per-frame history → every 0.5 s, statistics of the
 * last 2 s of speech, tempo, and features relative to the caller's
 * baseline. Silent frames cost only their level; tones (DTMF, ringback,
 * busy) are never speech.
 *
 * Everything is driven by sample position: samples are filtered in blocks
 * that end at each sample-position event (hop boundary, frame ready, window
 * end), with the same per-sample arithmetic as one sample at a time, so the
 * output does not depend on how the audio was chunked, and the same audio
 * always gives the same windows. All per-frame state is preallocated here;
 * the only per-window allocation is the returned vector.
 *
 * Timing: frame k covers samples [160k, 160k + 256); its pitch buffer is 375
 * samples centred on the frame centre, so frame k is analysed once sample
 * 160k + 316 has arrived. Window w covers [4000w, 4000w + 16000) and holds
 * frames 25w .. 25w + 98; it is completed when sample 4000w + 16000 arrives.
 */
import { VoiceActivityDetector, type VoiceActivityOptions } from '../audio/voice-activity.js';
import { CallerBaseline, type CallerBaselineOptions } from './caller-baseline.js';
import { FEATURE_CONFIG, FEATURE_NAMES } from './feature-names.js';
import { FrameHistory } from './frame-history.js';
import { FrameSpectralAnalyzer } from './frame-spectral.js';
import { LpcFormants } from './lpc-formants.js';
import { FeatureFrontEnd } from './front-end.js';
import { YinPitchTracker, hzToSemitones, type YinOptions } from './pitch-yin.js';
import { Stage, type StageClock } from '../observability/stage-clock.js';
import type { CallerFeatureStream, FeatureWindow } from './types.js';
import { WindowStatistics } from './window-stats.js';

/** Options of the extractor. Defaults are what the model is trained on: change them only to experiment. */
export interface CallerFeatureStreamOptions {
  /** Voice activity detection thresholds. */
  vad?: VoiceActivityOptions;
  /** Pitch tracker settings (range, thresholds). */
  pitch?: YinOptions;
  /** Caller baseline time constants. */
  baseline?: CallerBaselineOptions;
  /**
   * Diagnostics: called after every analysed frame with that frame's
   * results (one reused object, valid only during the call). For the pitch
   * check and debugging; leave unset in serving.
   */
  onFrame?: (frame: FrameInfo) => void;
  /** Where the pitch tracker's time is summed (`Stage.pitch`); the caller times the rest. Default: not timed. */
  clock?: StageClock;
}

/** Per-frame results passed to `onFrame`. */
export interface FrameInfo {
  /** Frame number from the start of the call. */
  index: number;
  /** Sample at the frame's centre (160·index + 128). */
  centreSample: number;
  energyDb: number;
  /** Whether the pitch tracker ran (the frame passed the energy gate). */
  pitchAnalysed: boolean;
  voiced: boolean;
  /** F0 (Hz) when voiced, else 0. */
  f0Hz: number;
  /** YIN aperiodicity at the chosen lag (1 when not analysed). */
  aperiodicity: number;
  speech: boolean;
  noiseFloorDb: number;
}

/** The extractor plus the end-of-audio call that offline tools use. */
export interface CallerFeatureStreamWithFlush extends CallerFeatureStream {
  /**
   * Ends the stream. If at least 0.25 s of audio came after the last window
   * boundary (or the stream is shorter than one window), returns one last
   * window ending at `samplesSeen` and reaching back at most 2 s, so a
   * 1.8 s corpus clip yields one window over 0–1.8 s. The same speech rules
   * apply. Live calls need not call it; further pushes throw.
   */
  flush(): FeatureWindow[];
  /** Frames analysed so far. */
  readonly framesSeen: number;
}

const {
  frameSamples: FRAME,
  hopSamples: HOP,
  windowSamples: WINDOW,
  windowHopSamples: WINDOW_HOP,
  framesPerWindow: WINDOW_FRAMES,
  framesPerWindowHop: WINDOW_HOP_FRAMES,
  pitchBufferSamples: PITCH_BUFFER,
  sampleRate: RATE,
} = FEATURE_CONFIG;
const FRAME_S = HOP / RATE;
/**
 * Sample rings. Every sample is written twice, at p and p + RING, so any
 * span of up to RING samples ending at or before the newest one is contiguous
 * from (start & RING_MASK): frames and pitch buffers are analysed in
 * place, without copying or wrapping.
 */
const RING = 512;
const RING_MASK = RING - 1;
/** Offset of the pitch buffer's first sample from the frame's first sample (−59). */
const PITCH_OFFSET = FRAME / 2 - Math.floor(PITCH_BUFFER / 2);
/** Samples after a frame's start that must have arrived before it is analysed (316). */
const FRAME_LOOKAHEAD = Math.max(FRAME, PITCH_OFFSET + PITCH_BUFFER);
// The longest span read, the pitch buffer (375 samples, from −59 to the
// newest sample +1), must fit the ring: 512 (not 1024: 12 KB less per call).
if (FRAME_LOOKAHEAD - Math.min(0, PITCH_OFFSET) > RING) throw new Error('CallerFeatureStream: sample ring shorter than a pitch buffer');
const MIN_SPEECH_FRAMES_ABS = Math.ceil(FEATURE_CONFIG.minSpeechS / FRAME_S - 1e-9);
/** Voiced speech frames a window needs for its pitch features to count. */
const MIN_VOICED_FRAMES = 5;
/**
 * Frames with more of their band power in two spectral peaks are tones, not
 * voice (SpectralFrame.toneRatio): less than −25 dB of the power elsewhere.
 * DTMF and call-progress tones read −25 to −38 dB; on the corpora 0.4 % of
 * speech frames above −40 dBFS fall under −25 dB (they lose their voicing).
 */
const MAX_TONE_RATIO = 1 - Math.pow(10, -25 / 10);
/** Voiced frames this soon after a tonal frame are taken as the tone's tail. */
const TONE_GUARD_FRAMES = 3;
/** Larger period steps between neighbouring frames are tracking jumps, not perturbation. */
const MAX_JITTER = 0.2;

class StreamImpl implements CallerFeatureStreamWithFlush {
  /** Telephone band-pass and the pitch tracker's inputs (low-passed band signal and its envelope). */
  private readonly frontEnd = new FeatureFrontEnd(RATE);
  private readonly ring = new Float32Array(2 * RING);
  /** The pitch tracker's input rings. */
  private readonly pitchRing = new Float32Array(2 * RING);
  private readonly envRing = new Float32Array(2 * RING);
  private readonly spectral = new FrameSpectralAnalyzer();
  private readonly formants = new LpcFormants();
  private readonly yin: YinPitchTracker;
  private readonly vad: VoiceActivityDetector;
  private readonly history = new FrameHistory();
  private readonly stats = new WindowStatistics();
  private readonly baseline: CallerBaseline;
  private seen = 0;
  private nextFrame = 0;
  private nextFrameReadyAt = FRAME_LOOKAHEAD;
  private nextWindow = 0;
  private nextWindowEnd = WINDOW;
  /** Last frame whose speech the baseline has counted. */
  private baselineFrame = -1;
  private ended = false;
  /** Last frame the pitch tracker ran on, and its voicing before the tone guard (held by the next frame). */
  private lastYinFrame = -10;
  private lastYinVoiced = false;
  /** Frames since the last tonal frame. */
  private sinceTonal = Number.POSITIVE_INFINITY;
  private readonly onFrame: ((frame: FrameInfo) => void) | undefined;
  private readonly clock: StageClock | undefined;
  private readonly frameInfo: FrameInfo = {
    index: 0,
    centreSample: 0,
    energyDb: 0,
    pitchAnalysed: false,
    voiced: false,
    f0Hz: 0,
    aperiodicity: 1,
    speech: false,
    noiseFloorDb: 0,
  };

  constructor(options: CallerFeatureStreamOptions) {
    this.onFrame = options.onFrame;
    this.clock = options.clock;
    // The range prior learns from every 2nd frame.
    this.yin = new YinPitchTracker({ frameS: 2 * FRAME_S, ...options.pitch });
    if (this.yin.bufferSamples > PITCH_BUFFER) {
      throw new RangeError(`pitch range needs a ${this.yin.bufferSamples}-sample buffer; the stream holds ${PITCH_BUFFER}`);
    }
    this.vad = new VoiceActivityDetector(options.vad);
    this.baseline = new CallerBaseline(options.baseline);
  }

  get samplesSeen(): number {
    return this.seen;
  }

  get framesSeen(): number {
    return this.nextFrame;
  }

  push(samples: Float32Array): FeatureWindow[] {
    if (this.ended) throw new Error('CallerFeatureStream: push after flush');
    const out: FeatureWindow[] = [];
    const n = samples.length;
    let i = 0;
    while (i < n) {
      // Block-wise up to the next event (hop boundary, frame ready, window
      // end) or the rings' end: the same samples, in the same order, with the
      // same per-sample arithmetic as one sample at a time, so chunking still
      // cannot change the output. Blocks are at most one hop long.
      const seen = this.seen;
      const pos = seen & RING_MASK;
      const m = Math.min(n - i, HOP - (seen % HOP), this.nextFrameReadyAt - seen, this.nextWindowEnd - seen, RING - pos);
      this.frontEnd.process(samples, i, m, this.ring, this.pitchRing, this.envRing, pos, RING);
      this.seen = seen + m;
      i += m;
      if (this.seen % HOP === 0) this.frontEnd.flushDenormals();
      if (this.seen === this.nextFrameReadyAt) this.analyzeFrame();
      if (this.seen === this.nextWindowEnd) {
        const w = this.completeWindow(this.nextWindow * WINDOW_HOP_FRAMES, WINDOW_FRAMES, this.nextWindowEnd - WINDOW);
        if (w !== undefined) out.push(w);
        this.nextWindow++;
        this.nextWindowEnd += WINDOW_HOP;
      }
    }
    return out;
  }

  flush(): FeatureWindow[] {
    if (this.ended) return [];
    this.ended = true;
    // The last window boundary passed; before the first full window, the call's start.
    const lastBoundary = this.nextWindow === 0 ? 0 : this.nextWindowEnd - WINDOW_HOP;
    if (this.seen - lastBoundary < WINDOW_HOP / 2) return [];
    const start = Math.max(0, this.seen - WINDOW);
    const first = Math.ceil(start / HOP);
    const count = this.nextFrame - first;
    if (count <= 0) return [];
    const w = this.completeWindow(first, count, start, this.seen);
    return w === undefined ? [] : [w];
  }

  private analyzeFrame(): void {
    const k = this.nextFrame;
    const start = k * HOP;
    const at = start & RING_MASK;
    // Level first: frames below the activity gate can be speech only as
    // VAD hangover, so silence costs neither pitch nor spectrum.
    const f = this.spectral.level(this.ring, at);
    const h = this.history;
    const slot = k & h.mask;

    let voiced = false;
    const analysed = f.energyDb > this.vad.activityThresholdDb;
    // Tones (DTMF, ringback, busy) are periodic and loud but not a voice.
    // (Only the spectrum's first part here; the rest waits for the speech decision.)
    const tonal = analysed && this.spectral.spectrumCore().toneRatio > MAX_TONE_RATIO;
    // The pitch tracker runs on even frames, and on an odd one only when the
    // frame before it did not run it (a speech onset): an odd frame after a
    // tracked one holds that frame's pitch (F0 moves little in 20 ms, and
    // YIN's difference function was a quarter of the stream's CPU).
    const hold = analysed && !tonal && (k & 1) === 1 && this.lastYinFrame === k - 1;
    if (hold) {
      const prev = (k - 1) & h.mask;
      voiced = this.lastYinVoiced;
      h.periodSamples[slot] = h.periodSamples[prev]!;
      h.f0St[slot] = h.f0St[prev]!;
      h.confidence[slot] = h.confidence[prev]!;
      h.hnrDb[slot] = h.hnrDb[prev]!;
    } else if (analysed && !tonal) {
      this.lastYinFrame = k;
      // Before the call's first sample (frame 0 reaches back 59 samples) the
      // rings still hold their initial zeros: the same zero padding as before.
      const pAt = (start + PITCH_OFFSET) & RING_MASK;
      const t0 = this.clock === undefined ? 0 : performance.now();
      const p = this.yin.analyze(this.pitchRing, pAt, this.envRing);
      if (this.clock !== undefined) this.clock.add(Stage.pitch, performance.now() - t0);
      voiced = p.voiced;
      this.lastYinVoiced = voiced;
      h.periodSamples[slot] = p.periodSamples;
      h.f0St[slot] = voiced ? hzToSemitones(p.f0Hz) : 0;
      h.confidence[slot] = p.confidence;
      h.hnrDb[slot] = p.hnrDb;
    } else {
      h.periodSamples[slot] = 0;
      h.f0St[slot] = 0;
      h.confidence[slot] = 0;
      h.hnrDb[slot] = -30;
    }
    if (tonal) this.sinceTonal = 0;
    else this.sinceTonal++;
    // A tone's onset and offset frames smear its spectrum but stay periodic:
    // voicing right after a tone is the tone, not a voice.
    if (voiced && this.sinceTonal <= TONE_GUARD_FRAMES) voiced = false;
    const speech = this.vad.update(f.energyDb, voiced, tonal);
    h.voiced[slot] = voiced ? 1 : 0;
    h.speech[slot] = speech ? 1 : 0;
    h.energyDb[slot] = f.energyDb;
    h.rms[slot] = f.rms;
    h.zcr[slot] = f.zcr;
    if (speech) {
      // Speech frames only: nothing reads the spectral history of other
      // frames (window statistics summarise speech), and analysed frames
      // that are not speech (noise above the gate, tones) need only what
      // spectrumCore gave (tone ratio, flux's reference): ≈160 logarithms
      // and 24 powers fewer per such frame.
      if (!analysed) this.spectral.spectrumCore();
      this.spectral.spectrumDetail();
      h.loudness[slot] = f.loudness;
      h.centroidHz[slot] = f.centroidHz;
      h.spreadHz[slot] = f.spreadHz;
      h.flatnessDb[slot] = f.flatnessDb;
      h.slope[slot] = f.slope;
      h.rolloffHz[slot] = f.rolloffHz;
      h.flux[slot] = f.flux;
      h.alphaRatioDb[slot] = f.alphaRatioDb;
      h.hammarbergDb[slot] = f.hammarbergDb;
      h.slopeLoDbKhz[slot] = f.slopeLoDbKhz;
      h.slopeMidDbKhz[slot] = f.slopeMidDbKhz;
      h.bandLoDb[slot] = f.bandLoDb;
      h.bandHiDb[slot] = f.bandHiDb;
      h.mfcc.set(f.mfcc, slot * FEATURE_CONFIG.mfccCount);
    } else if (!analysed) {
      // Not analysed: the next analysed frame's flux is measured against nothing.
      this.spectral.skipSpectrum();
    }

    // Formants only where they are defined and used: voiced speech.
    if (voiced && speech) {
      const fm = this.formants.analyze(this.ring, at);
      h.f1Hz[slot] = fm.freqHz[0]!;
      h.f2Hz[slot] = fm.freqHz[1]!;
      h.f3Hz[slot] = fm.freqHz[2]!;
      h.f1BwHz[slot] = fm.bwHz[0]!;
      h.f2BwHz[slot] = fm.bwHz[1]!;
      h.f3BwHz[slot] = fm.bwHz[2]!;
      h.a1a3Db[slot] = fm.a1a3Db;
    } else {
      h.f1Hz[slot] = h.f2Hz[slot] = h.f3Hz[slot] = Number.NaN;
      h.f1BwHz[slot] = h.f2BwHz[slot] = h.f3BwHz[slot] = Number.NaN;
      h.a1a3Db[slot] = Number.NaN;
    }

    // Perturbation of the middle of three voiced speech frames against the
    // line through its neighbours (a PPQ3/APQ3-like measure at frame rate,
    // so that smooth intonation and loudness movement do not count), over
    // the even frames k − 4, k − 2, k: held odd frames carry no period of their own.
    h.jitter[slot] = Number.NaN;
    h.shimmerDb[slot] = Number.NaN;
    if (k >= 4 && (k & 1) === 0) {
      const a = (k - 4) & h.mask;
      const b = (k - 2) & h.mask;
      if (voiced && speech && h.voiced[a] === 1 && h.voiced[b] === 1 && h.speech[a] === 1 && h.speech[b] === 1) {
        const ta = h.periodSamples[a]!;
        const tb = h.periodSamples[b]!;
        const tc = h.periodSamples[slot]!;
        const jitter = Math.abs(tb - (ta + tc) / 2) / ((ta + tb + tc) / 3);
        if (jitter <= MAX_JITTER && Math.abs(ta - tc) / tb <= MAX_JITTER * 2) {
          h.jitter[slot] = jitter;
          const la = h.energyDb[a]!;
          const lb = h.energyDb[b]!;
          const lc = f.energyDb;
          h.shimmerDb[slot] = Math.abs(lb - (la + lc) / 2);
        }
      }
    }

    if (this.onFrame !== undefined) {
      const info = this.frameInfo;
      info.index = k;
      info.centreSample = start + FRAME / 2;
      info.energyDb = f.energyDb;
      info.pitchAnalysed = analysed;
      info.voiced = voiced;
      info.f0Hz = voiced ? this.yin.result.f0Hz : 0;
      info.aperiodicity = analysed ? this.yin.result.aperiodicity : 1;
      info.speech = speech;
      info.noiseFloorDb = this.vad.noiseFloorDb;
      this.onFrame(info);
    }

    this.nextFrame++;
    this.nextFrameReadyAt += HOP;
  }

  private completeWindow(first: number, count: number, startSample: number, endSample = startSample + WINDOW): FeatureWindow | undefined {
    const h = this.history;
    let speechFrames = 0;
    let voicedSpeech = 0;
    let newSpeech = 0;
    for (let i = 0; i < count; i++) {
      const slot = (first + i) & h.mask;
      if (h.speech[slot] !== 1) continue;
      speechFrames++;
      if (h.voiced[slot] === 1) voicedSpeech++;
      if (first + i > this.baselineFrame) newSpeech++;
    }
    const ratio = count > 0 ? speechFrames / count : 0;
    if (ratio < FEATURE_CONFIG.minSpeechRatio || speechFrames < MIN_SPEECH_FRAMES_ABS) return undefined;
    const values = new Float32Array(FEATURE_NAMES.length);
    this.stats.compute(h, first, count, values);
    this.baseline.apply(values, newSpeech * FRAME_S, voicedSpeech >= MIN_VOICED_FRAMES);
    this.baselineFrame = Math.max(this.baselineFrame, first + count - 1);
    for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) values[i] = 0;
    return { startSample, endSample, values, speechRatio: ratio };
  }
}

/**
 * Creates the feature extractor for one call's caller track. Push 8 kHz
 * float samples; windows come back as they complete.
 */
export function createCallerFeatureStream(options: CallerFeatureStreamOptions = {}): CallerFeatureStreamWithFlush {
  return new StreamImpl(options);
}
