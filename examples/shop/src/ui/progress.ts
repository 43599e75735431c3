/** A progress display for long steps: a one-line bar on a terminal, plain lines otherwise. */

/** What a progress display needs of its output: a `process.stdout`-like stream. */
export interface ProgressOutput {
  write(text: string): unknown;
  readonly isTTY?: boolean | undefined;
  readonly columns?: number | undefined;
}

/** Reports how far a step got. */
export interface Progress {
  /** `done` of the total are finished; `detail` is shown after the counts. */
  update(done: number, detail?: string): void;
  /** Ends the display (on a terminal: the final bar stays, the next output starts below it). */
  finish(): void;
}

const BAR_WIDTH = 28;
const TTY_INTERVAL_MS = 80;

/**
 * Creates a progress display for `total` items. On a terminal it redraws one line at most every
 * 80 ms (`\r`, no scrolling); elsewhere (a pipe, CI logs) it prints a plain line at every
 * quarter, so logs stay short and readable.
 */
export function createProgress(label: string, total: number, output: ProgressOutput): Progress {
  const started = performance.now();
  const tty = output.isTTY === true;
  let lastDraw = 0;
  let nextQuarter = 1;
  let lastDone = 0;
  let lastDetail = '';

  const rate = (done: number) => {
    const seconds = (performance.now() - started) / 1_000;
    return seconds > 0 ? `${Math.round(done / seconds)}/s` : '';
  };
  const draw = () => {
    const fraction = total === 0 ? 1 : lastDone / total;
    const filled = Math.round(fraction * BAR_WIDTH);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}`;
    const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
    const text = `    ${label} ${bar} ${percent} ${lastDone}/${total}  ${rate(lastDone)}  ${lastDetail}`;
    const width = (output.columns ?? 100) - 1;
    output.write(`\r${text.slice(0, width).padEnd(width)}`);
  };

  return {
    update(done, detail = '') {
      lastDone = done;
      lastDetail = detail;
      if (tty) {
        const now = performance.now();
        if (now - lastDraw >= TTY_INTERVAL_MS || done === total) {
          lastDraw = now;
          draw();
        }
        return;
      }
      while (total > 0 && done >= (nextQuarter * total) / 4 && nextQuarter <= 4) {
        output.write(`    ${label}: ${done}/${total} (${nextQuarter * 25}%)  ${detail}\n`);
        nextQuarter++;
      }
    },
    finish() {
      if (tty) {
        draw();
        output.write('\n');
      }
    },
  };
}
