import { writeFile } from 'node:fs/promises';

/** Prints a bench's table and, with `--json FILE`, writes its report there. */
export async function printReport(table: string, report: unknown, jsonPath: string | undefined): Promise<void> {
  process.stdout.write(table + '\n');
  if (jsonPath === undefined) return;
  await writeFile(jsonPath, JSON.stringify(report, null, 2) + '\n');
  process.stdout.write(`wrote ${jsonPath}\n`);
}

/** Runs `main` when the module at `moduleUrl` is the script node was started with. */
export function runIfMain(moduleUrl: string, main: () => Promise<void>): void {
  if (moduleUrl !== `file://${process.argv[1]}`) return;
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  });
}
