import { readFile } from 'node:fs/promises';
import { floatToMuLaw } from './g711.js';
import { resampleAll } from './resample.js';
import { readWav } from './wav.js';

/**
 * Reads a WAV file as the 8 kHz mu-law bytes a Twilio stream carries. Mu-law
 * 8 kHz files pass through byte for byte; anything else (16-bit PCM, A-law,
 * other rates) is resampled to 8 kHz and companded.
 */
export async function loadCallAudioAsMuLaw(path: string): Promise<Uint8Array> {
  const wav = readWav(await readFile(path));
  if (wav.encoding === 'pcmu' && wav.sampleRate === 8000 && wav.muLaw) return wav.muLaw;
  const samples = wav.sampleRate === 8000 ? wav.samples : resampleAll(wav.samples, wav.sampleRate, 8000);
  return floatToMuLaw(samples);
}
