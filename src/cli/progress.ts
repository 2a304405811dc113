/**
 * A progress bar on standard error, drawn only when it is a terminal (a pipe or a file gets nothing, so logs
 * and tests stay clean). Redrawn at most ten times a second.
 */
export interface ProgressBar {
  update(done: number, total: number, label?: string): void;
  done(): void;
}

export function progressBar(title: string, stream: NodeJS.WriteStream = process.stderr): ProgressBar {
  if (!stream.isTTY) return { update: () => undefined, done: () => undefined };
  const started = Date.now();
  let last = 0;
  let drawn = false;
  let phaseStart = { at: started, done: 0, label: '' };
  const draw = (done: number, total: number, label: string) => {
    if (label !== phaseStart.label) phaseStart = { at: Date.now(), done, label };
    const width = Math.max(10, Math.min(40, (stream.columns ?? 80) - 60));
    const elapsed = (Date.now() - phaseStart.at) / 1000;
    const rate = elapsed > 0 ? (done - phaseStart.done) / elapsed : 0;
    const fmt = (n: number) => n.toLocaleString('en-US');
    let text: string;
    if (total > 0) {
      const f = Math.min(1, done / total);
      const filled = Math.round(f * width);
      const eta = rate > 0 ? Math.ceil((total - done) / rate) : 0;
      text = `${title} ${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(f * 100).toFixed(0).padStart(3)}% ${fmt(done)}/${fmt(total)} ${fmt(Math.round(rate))}/s ETA ${eta}s`;
    } else text = `${title} ${label} ${fmt(done)} rows ${fmt(Math.round(rate))}/s`;
    stream.write(`\r${text}\x1b[K`);
    drawn = true;
  };
  return {
    update(done, total, label = '') {
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      draw(done, total, label);
    },
    done() {
      if (drawn) stream.write('\n');
    },
  };
}
