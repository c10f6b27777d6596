/*
 * The feature stream's per-sample front end (src/features/front-end.ts) in
 * C, to measure what a compiled kernel would buy: the same recurrences in
 * the same order (telephone band-pass, 4 biquads; the pitch input's 1 kHz
 * low-pass, 2 biquads; its rectified, DC-blocked envelope, 2 biquads), the
 * same mirrored float stores. Run by scripts/front-end-cost.ts, which hands
 * it the real coefficients:
 *
 *   front-end <seconds> <dcPole> <40 coefficients: b0 b1 b2 a1 a2 of the 4 band, 2 low-pass and 2 envelope sections>
 *
 * Prints one JSON line: CPU ns per sample and a checksum of the last outputs.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct {
  double b0, b1, b2, a1, a2, z0, z1;
} Biquad;

static inline double step(Biquad *s, double v) {
  double y = s->b0 * v + s->z0;
  s->z0 = s->b1 * v - s->a1 * y + s->z1;
  s->z1 = s->b2 * v - s->a2 * y;
  return y;
}

int main(int argc, char **argv) {
  if (argc != 43) {
    fprintf(stderr, "usage: front-end <seconds> <dcPole> <40 coefficients>\n");
    return 2;
  }
  const long samples = (long)(atof(argv[1]) * 8000);
  const double pole = atof(argv[2]);
  Biquad s[8];
  for (int k = 0; k < 8; k++) {
    double *c = &s[k].b0;
    for (int j = 0; j < 5; j++) c[j] = atof(argv[3 + 5 * k + j]);
    s[k].z0 = s[k].z1 = 0;
  }
  float input[160], band[1024], low[1024], env[1024];
  for (int i = 0; i < 160; i++) input[i] = (float)(0.1 * sin(i * 0.3) + 0.05 * sin(i * 1.7));
  double dc = 0, dcPrev = 0;
  struct timespec t0, t1;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
  for (long n = 0; n < samples; n += 160) {
    for (int i = 0; i < 160; i++) {
      double raw = input[i];
      double v = isfinite(raw) ? raw : 0;
      v = step(&s[0], v);
      v = step(&s[1], v);
      v = step(&s[2], v);
      const double b = step(&s[3], v);
      const double u = step(&s[5], step(&s[4], b));
      const double r = fabs(b);
      dc = r - dcPrev + pole * dc;
      dcPrev = r;
      const double w = step(&s[7], step(&s[6], dc));
      band[i] = band[i + 512] = (float)b;
      low[i] = low[i + 512] = (float)u;
      env[i] = env[i + 512] = (float)w;
    }
  }
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
  const double ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / (double)samples;
  printf("{\"ns_per_sample\":%.3f,\"checksum\":%.17g}\n", ns, (double)band[159] + low[159] + env[159]);
  return 0;
}
