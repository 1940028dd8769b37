import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** A fixture script under test/fixtures, run with this Node; its stdout read line by line. */
export class Child {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly lines: string[] = [];
  private stderr = '';
  private isClosed = false;
  private readonly waiters = new Set<() => void>();
  /** Resolves once the process has exited and its stdio has closed (every line was read). */
  readonly closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(fixture: string, args: string[]) {
    const script = fileURLToPath(new URL(`../fixtures/${fixture}`, import.meta.url));
    this.proc = spawn(process.execPath, [script, ...args], { stdio: 'pipe' });
    this.proc.stderr.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    createInterface({ input: this.proc.stdout }).on('line', (line) => {
      this.lines.push(line);
      for (const wake of this.waiters) wake();
    });
    this.closed = new Promise((resolve) => {
      this.proc.on('close', (code, signal) => {
        this.isClosed = true;
        for (const wake of this.waiters) wake();
        resolve({ code, signal });
      });
    });
  }

  /** The first line matching `match`; rejects if the child closes without printing one. */
  waitForLine(match: (line: string) => boolean): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.lines.find(match);
        if (found !== undefined) {
          this.waiters.delete(check);
          resolve(found);
          return true;
        }
        if (this.isClosed) {
          this.waiters.delete(check);
          reject(new Error(`child exited before the expected line; stderr:\n${this.stderr}`));
          return true;
        }
        return false;
      };
      if (!check()) this.waiters.add(check);
    });
  }

  /** SIGKILL (unless already gone) and wait until every line it printed has been read. */
  async kill(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
    return this.closed;
  }
}
