/**
 * Draws clips of one label for assembled calls, cycling through seeded
 * reshuffles of the pool (so a speaker with few clips of a label can fill a
 * long stretch), and never the same clip twice in a row across a reshuffle.
 * Shared by the validation calls (src/eval/validation-calls.ts) and the
 * training episode calls (src/eval/episode-calls.ts).
 */
import { shuffle } from './augment.js';
import type { ManifestClip } from './manifest.js';

export class ClipDrawer {
  private order: ManifestClip[] = [];
  private at = 0;
  private round = 0;
  private last: ManifestClip | undefined;

  /**
   * @param pool the clips to draw from
   * @param rngForRound the PRNG of reshuffle `round` (0, 1, …): a fresh seeded one
   *   per round, or the same shared one every time
   */
  constructor(
    private readonly pool: readonly ManifestClip[],
    private readonly rngForRound: (round: number) => () => number,
  ) {}

  private reshuffle(): void {
    const o = shuffle(
      [...this.pool].sort((a, b) => a.index - b.index),
      this.rngForRound(this.round++),
    );
    if (o.length > 1 && o[0] === this.last) [o[0], o[1]] = [o[1]!, o[0]!];
    this.order = o;
    this.at = 0;
  }

  /** Clips until their total reaches `seconds` (may run over by one clip; a clip counts at least 0.1 s). */
  take(seconds: number): ManifestClip[] {
    const out: ManifestClip[] = [];
    let total = 0;
    while (total < seconds) {
      if (this.at >= this.order.length) this.reshuffle();
      const c = this.order[this.at++]!;
      out.push(c);
      total += Math.max(c.durationS, 0.1);
      this.last = c;
    }
    return out;
  }
}
