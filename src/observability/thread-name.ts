/**
 * Names the calling OS thread (Linux: its `comm`, as `top -H`, `ps -L` and
 * /proc/<pid>/task/<tid>/comm show it), so a thread's CPU can be told apart
 * from outside the process: the bench splits the server's CPU into the main
 * thread, the DSP workers (`dsp-<i>`) and the rest (V8's GC and compiler
 * threads, libuv's and onnxruntime's pools). Node 20 leaves every thread
 * named after the executable.
 */
import { writeFileSync } from 'node:fs';

/** Linux keeps 15 bytes of a thread name (16 with the terminating NUL). */
export const THREAD_NAME_MAX = 15;

/**
 * Sets the calling thread's name (cut to 15 bytes). Returns whether it took:
 * false where /proc/thread-self is absent (not Linux), never throws — a name
 * is for observers, not worth failing a worker over.
 */
export function nameThisThread(name: string): boolean {
  try {
    // /proc/thread-self is the calling thread's own task directory; writing its comm is PR_SET_NAME.
    writeFileSync('/proc/thread-self/comm', Buffer.from(name, 'utf8').subarray(0, THREAD_NAME_MAX));
    return true;
  } catch {
    return false;
  }
}
