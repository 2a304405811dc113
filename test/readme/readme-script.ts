/**
 * The README as a test: its shell examples turned into one bash script that runs them in order and stops at
 * the first command whose exit status the README did not promise. The convention the README follows is
 * described at the top of its "Using it" section; this module is its one implementation:
 *
 * - a fenced block opened with ```sh is run; ```sh no-run (or any other language: ```text, ```console) is
 *   shown only;
 * - a command whose comment starts with `# exit N` must exit with status N (and any other status fails);
 * - a command ending in `&` runs in the background until the README ends; `# ready: TEXT` makes the next
 *   line wait until the command has printed TEXT;
 * - every block runs in one bash session (`set -eo pipefail`), so variables set in one block are seen by the
 *   next, in a fresh working directory.
 *
 * The script keeps one README line per script line, so bash's $LINENO maps back to the README.
 */

export interface ShellBlock {
  /** 1-based README line of the block's first content line. */
  firstLine: number;
  lines: string[];
  run: boolean;
  /** The info string after the fence (`sh`, `sh no-run`, `text`…). */
  info: string;
}

/** The fenced code blocks of a Markdown text, with where they start. */
export function shellBlocks(markdown: string): ShellBlock[] {
  const blocks: ShellBlock[] = [];
  const lines = markdown.split('\n');
  let open: { fence: string; info: string; firstLine: number; lines: string[] } | null = null;
  lines.forEach((line, i) => {
    if (!open) {
      const m = /^(`{3,}|~{3,})\s*(.*)$/.exec(line);
      if (m) open = { fence: m[1]!, info: m[2]!.trim(), firstLine: i + 2, lines: [] };
      return;
    }
    if (line.trim().startsWith(open.fence) && line.trim().replace(/[`~]/g, '') === '') {
      const words = open.info.split(/\s+/).filter(Boolean);
      const shell = words[0] === 'sh' || words[0] === 'bash' || words[0] === 'shell';
      blocks.push({ firstLine: open.firstLine, lines: open.lines, info: open.info, run: shell && !words.includes('no-run') });
      open = null;
      return;
    }
    open.lines.push(line);
  });
  if (open) throw new Error(`README: the code block opened on line ${(open as { firstLine: number }).firstLine - 1} is never closed`);
  return blocks;
}

/** What a command line of the README asks of the harness. */
export interface LineMarks {
  /** `# exit N`: the exit status the command must have. */
  expectedExit?: number;
  /** Ends in `&`. */
  background: boolean;
  /** `# ready: TEXT`. */
  ready?: string;
  /** The command without its trailing comment. */
  command: string;
}

/**
 * Splits off the trailing comment of one physical line. A `#` starts a comment only at the start of a word
 * and outside quotes, as in the shell.
 */
export function splitComment(line: string): { code: string; comment: string | undefined } {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) return { code: line.slice(0, i), comment: line.slice(i + 1).trim() };
  }
  return { code: line, comment: undefined };
}

export function marksOf(line: string): LineMarks {
  const { code, comment } = splitComment(line);
  const command = code.replace(/\s+$/, '');
  const exit = comment !== undefined ? /^exit (\d+)\b/.exec(comment) : null;
  const ready = comment !== undefined ? /^(?:.*?;\s*)?ready:\s*(.+)$/.exec(comment) : null;
  return {
    command,
    background: /(^|[^&])&$/.test(command),
    ...(exit ? { expectedExit: Number(exit[1]) } : {}),
    ...(ready ? { ready: ready[1]!.trim() } : {}),
  };
}

export interface ReadmeScript {
  script: string;
  /** README line of each script line (index = script line - 1); 0 for harness lines. */
  readmeLines: number[];
  /** How many commands of the README the script runs. */
  commands: number;
}

export interface ScriptOptions {
  /** Literal replacements applied to every run line (the port, the database URL). */
  substitutions?: [string, string][];
  /** Directory for the background commands' logs. */
  logDir: string;
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The bash script of the README's runnable blocks. Harness functions: `__expect N STATUS LINE` checks a
 * promised exit status; `__bg PID LINE LOG READY` records a background command and waits for its ready text;
 * an EXIT trap stops every background process group.
 */
export function readmeScript(blocks: ShellBlock[], options: ScriptOptions): ReadmeScript {
  const header = [
    'set -eo pipefail',
    // job control: every background command gets its own process group, so stopping it stops npx's child too
    'set -m',
    `__logdir=${q(options.logDir)}`,
    '__bgpids=()',
    // SIGTERM to each group, then wait for it (SIGKILL after 10 s), then SIGKILL whatever of the group is left
    '__stop() { for p in "${__bgpids[@]}"; do kill -TERM -- "-$p" 2>/dev/null || true; done; for p in "${__bgpids[@]}"; do ( sleep 10; kill -KILL -- "-$p" ) >/dev/null 2>&1 & __t=$!; wait "$p" 2>/dev/null || true; kill -- "-$__t" 2>/dev/null || true; kill -KILL -- "-$p" 2>/dev/null || true; done; }',
    'trap __stop EXIT',
    `trap 'printf "\\n::readme-failed line=%s status=%s\\n" "\${__readme_line[$LINENO]:-?}" "$?" >&2' ERR`,
    '__expect() { if [ "$2" != "$1" ]; then printf "\\n::readme-failed line=%s status=%s expected=%s\\n" "$3" "$2" "$1" >&2; exit 98; fi; }',
    '__bg() { __bgpids+=("$1"); echo "$1" >> "$__logdir/background.pids"; [ -z "$4" ] && return 0; for _ in $(seq 1 1200); do grep -qF -- "$4" "$3" 2>/dev/null && return 0; if ! kill -0 "$1" 2>/dev/null; then cat "$3" >&2; printf "\\n::readme-failed line=%s status=background-exited\\n" "$2" >&2; exit 97; fi; sleep 0.1; done; cat "$3" >&2; printf "\\n::readme-failed line=%s status=background-not-ready\\n" "$2" >&2; exit 97; }',
  ];
  const body: string[] = [];
  const lineMap: number[] = [];
  let commands = 0;
  const subst = (s: string) => (options.substitutions ?? []).reduce((acc, [from, to]) => acc.split(from).join(to), s);

  for (const block of blocks) {
    if (!block.run) continue;
    // Where each logical command (continued lines joined) starts: a marked last line rewrites its first.
    const out = block.lines.map(subst);
    let start = 0;
    for (let i = 0; i < out.length; i++) {
      const raw = out[i]!;
      const continued = /\\$/.test(splitComment(raw).code.replace(/\s+$/, '')) && splitComment(raw).comment === undefined;
      if (continued) continue;
      const m = marksOf(raw);
      const readmeLine = block.firstLine + i;
      if (m.command.trim() !== '' && !/^\s*(then|do|else|fi|done|esac|\}|\{)\b/.test(m.command)) commands++;
      if (m.expectedExit !== undefined) {
        out[start] = `__s=0; ${out[start]}`;
        const last = start === i ? out[start]! : raw;
        out[i] = `${splitComment(last).code.replace(/\s+$/, '')} || __s=$?; __expect ${m.expectedExit} "$__s" ${readmeLine}`;
      } else if (m.background) {
        const log = `"$__logdir/bg-${readmeLine}.log"`;
        out[start] = `{ ${out[start]}`;
        const last = start === i ? out[start]! : raw;
        const code = splitComment(last).code.replace(/\s+$/, '').replace(/&$/, '');
        out[i] = `${code}; } >${log} 2>&1 & __bg $! ${readmeLine} ${log} ${q(m.ready ?? '')}`;
      }
      start = i + 1;
    }
    out.forEach((line, i) => {
      body.push(line);
      lineMap.push(block.firstLine + i);
    });
  }
  // bash arrays map a script line to its README line, for the ERR trap
  const mapLine = `declare -A __readme_line=(${lineMap.map((l, i) => `[${header.length + 3 + i}]=${l}`).join(' ')})`;
  const script = [...header, mapLine, '', ...body, ''].join('\n');
  return { script, readmeLines: [...header.map(() => 0), 0, 0, ...lineMap], commands };
}
