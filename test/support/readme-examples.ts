/**
 * The TypeScript and JavaScript examples of a Markdown page, as docs/style.md ("README examples
 * run") defines them: every ```ts or ```js fence is a whole script that runs as written, unless its
 * info string says `fragment` (a piece that continues another example). A script states how it
 * is run and what it prints in its own comments:
 * - `// Every rank runs this file: mpirun -np N node ... FILE.mjs ARG...`: N ranks, each given
 *   the ARGs (named in capitals, each a fresh directory the ranks share); without it, one process
 *   with no arguments;
 * - a comment ending `prints: TEXT`: the line the script prints there (all ranks together print
 *   exactly these lines, in this order).
 */
export interface ReadmeExample {
  /** The line of the opening fence (1-based). */
  line: number;
  /** The heading the example is under. */
  heading: string;
  language: 'ts' | 'js';
  fragment: boolean;
  source: string;
  ranks: number;
  /** The arguments' names, in order (each becomes a fresh directory). */
  args: string[];
  prints: string[];
}

const FENCE = /^```(ts|typescript|js|javascript)(?:\s+(.*))?$/;
const RUN_LINE = /^\/\/ Every rank runs this file: mpirun -np (\d+) .*?\S+\.mjs((?: [A-Z][A-Z_]*)*)$/;
const PRINTS = /\/\/.*\bprints: (.+)$/;

export function readmeExamples(markdown: string): ReadmeExample[] {
  const lines = markdown.split('\n');
  const examples: ReadmeExample[] = [];
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!;
    if (text.startsWith('#')) heading = text.replace(/^#+\s*/, '');
    const fence = FENCE.exec(text);
    if (fence === null) {
      // Any other fence (sh, plain) is skipped whole, so a # inside it is not taken for a heading.
      if (text.startsWith('```')) i = closingFence(lines, i);
      continue;
    }
    const end = closingFence(lines, i);
    const body = lines.slice(i + 1, end);
    const run = RUN_LINE.exec(body[0] ?? '');
    examples.push({
      line: i + 1, heading, language: fence[1]!.startsWith('t') ? 'ts' : 'js', fragment: (fence[2] ?? '').split(/\s+/).includes('fragment'),
      source: body.join('\n') + '\n', ranks: run === null ? 1 : Number(run[1]), args: run === null ? [] : run[2]!.trim().split(' ').filter(Boolean),
      prints: body.flatMap((line) => PRINTS.exec(line)?.[1]?.trim() ?? []),
    });
    i = end;
  }
  return examples;
}

/** The index of the fence closing the one opened at `open`. */
function closingFence(lines: readonly string[], open: number): number {
  for (let j = open + 1; j < lines.length; j++) if (lines[j]!.trimEnd() === '```') return j;
  throw new Error(`the fence opened on line ${open + 1} is never closed`);
}
