/**
 * Frame-level voice activity detection from energy and voicing.
 *
 * Noise floor: minimum statistics — the lowest frame energy over the last
 * ~3 s, tracked as the minimum of six 0.5 s sub-block minima (no per-frame
 * search, no allocation). Steady line noise or hum therefore becomes the
 * floor within 3 s whatever its level.
 *
 * A frame is speech when its energy stands `marginDb` above the floor (and
 * above an absolute minimum) AND it is voiced, or it is an unvoiced frame
 * within `consonantFrames` after voicing (a consonant or a breathy offset).
 * Line noise is aperiodic, so it never starts speech on its own. A short
 * hangover bridges the dips inside a word (stop closures).
 */

/** Options, all in frames of 20 ms or dB. */
export interface VoiceActivityOptions {
  /** Energy above the noise floor a speech frame needs (dB). Default 8. */
  marginDb?: number;
  /** Energy every speech frame needs regardless of the floor (dBFS). Default −60. */
  absoluteMinDb?: number;
  /** Frames per noise-floor sub-block. Default 25 (0.5 s). */
  floorBlockFrames?: number;
  /** Sub-blocks in the noise-floor memory. Default 6 (3 s with 25-frame blocks). */
  floorBlocks?: number;
  /** Unvoiced energetic frames this soon after a voiced frame still count as speech. Default 10 (200 ms). */
  consonantFrames?: number;
  /** Non-energetic frames kept as speech after speech. Default 3 (60 ms). */
  hangoverFrames?: number;
}

export class VoiceActivityDetector {
  private readonly marginDb: number;
  private readonly absoluteMinDb: number;
  private readonly blockFrames: number;
  private readonly consonantFrames: number;
  private readonly hangoverFrames: number;
  private readonly blockMins: Float64Array;
  private blockIndex = 0;
  private blockCount = 0;
  private framesInBlock = 0;
  private currentMin = Number.POSITIVE_INFINITY;
  private sinceVoiced = Number.POSITIVE_INFINITY;
  private hang = 0;
  private speaking = false;

  constructor(options: VoiceActivityOptions = {}) {
    this.marginDb = options.marginDb ?? 8;
    this.absoluteMinDb = options.absoluteMinDb ?? -60;
    this.blockFrames = options.floorBlockFrames ?? 25;
    this.blockMins = new Float64Array(options.floorBlocks ?? 6).fill(Number.POSITIVE_INFINITY);
    this.consonantFrames = options.consonantFrames ?? 10;
    this.hangoverFrames = options.hangoverFrames ?? 3;
  }

  /** Current noise floor estimate (dBFS); the lowest energy seen so far before the first block completes. */
  get noiseFloorDb(): number {
    let m = this.currentMin;
    for (let i = 0; i < this.blockCount; i++) if (this.blockMins[i]! < m) m = this.blockMins[i]!;
    return m === Number.POSITIVE_INFINITY ? -100 : m;
  }

  /** Energy a frame needs before it can be speech (dBFS); cheap pre-gate for the pitch tracker. */
  get activityThresholdDb(): number {
    return Math.max(this.noiseFloorDb + this.marginDb, this.absoluteMinDb);
  }

  /**
   * Classifies one frame from its energy (dBFS) and voicing; returns true
   * for speech. `tonal` frames (a tone detector's verdict) are never speech.
   * The frame then joins the noise-floor statistics.
   */
  update(energyDb: number, voiced: boolean, tonal = false): boolean {
    if (tonal) {
      // A tone (DTMF, ringback) ends any speech and lends no voicing to what follows.
      this.sinceVoiced = Number.POSITIVE_INFINITY;
      this.speaking = false;
      this.hang = 0;
      this.track(energyDb);
      return false;
    }
    const energetic = energyDb > this.activityThresholdDb;
    if (voiced && energetic) this.sinceVoiced = 0;
    else this.sinceVoiced++;
    let speech: boolean;
    if (energetic && this.sinceVoiced <= this.consonantFrames) {
      speech = true;
      this.hang = 0;
    } else if (this.speaking && this.hang < this.hangoverFrames && this.sinceVoiced <= this.consonantFrames) {
      speech = true;
      this.hang++;
    } else {
      speech = false;
    }
    this.speaking = speech;
    this.track(energyDb);
    return speech;
  }

  private track(energyDb: number): void {
    if (energyDb < this.currentMin) this.currentMin = energyDb;
    if (++this.framesInBlock < this.blockFrames) return;
    this.blockMins[this.blockIndex] = this.currentMin;
    this.blockIndex = (this.blockIndex + 1) % this.blockMins.length;
    if (this.blockCount < this.blockMins.length) this.blockCount++;
    this.currentMin = Number.POSITIVE_INFINITY;
    this.framesInBlock = 0;
  }
}
