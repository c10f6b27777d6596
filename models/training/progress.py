"""Progress with an ETA on stderr for train.py's long runs (a bar on a terminal,
a line every tenth otherwise), counted in model fits."""
import sys
import time


def _clock(s):
    s = int(round(s))
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


class Progress:
    def __init__(self, total, label="training", stream=sys.stderr):
        self.total = max(1, int(total))
        self.label = label
        self.stream = stream
        self.done = 0
        self.t0 = time.time()
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self._last_tenth = -1

    def tick(self, n=1):
        self.done = min(self.total, self.done + n)
        elapsed = time.time() - self.t0
        eta = elapsed / self.done * (self.total - self.done)
        frac = self.done / self.total
        text = f"{self.label} {self.done}/{self.total} fits elapsed {_clock(elapsed)} ETA {_clock(eta)}"
        if self.tty:
            bar = "#" * int(frac * 24)
            end = "\n" if self.done == self.total else ""
            self.stream.write(f"\r{self.label} [{bar:.<24}] {frac:4.0%} {text[len(self.label) + 1:]}\x1b[K{end}")
            self.stream.flush()
        elif int(frac * 10) > self._last_tenth:
            self._last_tenth = int(frac * 10)
            self.stream.write(text + "\n")
            self.stream.flush()
