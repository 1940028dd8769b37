/**
 * A password prompt without echo (issue 12: `set-admin` on a terminal). The terminal goes to raw
 * mode for the answer, so nothing typed is shown; Backspace edits, Enter ends, Ctrl-C and Ctrl-D
 * (on an empty answer) abort. Only for a TTY: a pipe is read as before (`--password-stdin`).
 */

/** What the prompt needs of stdin: a TTY stream (fakeable in tests). */
export interface PromptInput extends NodeJS.EventEmitter {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
  resume(): unknown;
  pause(): unknown;
  setEncoding?(encoding: BufferEncoding): unknown;
}

export interface PromptOutput {
  write(s: string): unknown;
}

export class PromptAborted extends Error {
  override readonly name = 'PromptAborted';
}

export function promptHidden(question: string, input: PromptInput, output: PromptOutput): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = '';
    const wasRaw = (input as { isRaw?: boolean }).isRaw === true;
    input.setRawMode?.(true);
    const finish = (err: Error | undefined) => {
      input.off('data', onData);
      input.setRawMode?.(wasRaw);
      input.pause();
      output.write('\n');
      if (err) reject(err);
      else resolve(answer);
    };
    const onData = (chunk: Buffer | string) => {
      const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      for (const ch of text) {
        switch (ch) {
          case '\r':
          case '\n':
            finish(undefined);
            return;
          case '\u0003': // Ctrl-C
            finish(new PromptAborted('interrupted'));
            return;
          case '\u0004': // Ctrl-D
            if (answer === '') {
              finish(new PromptAborted('no password given'));
              return;
            }
            break;
          case '\u007f': // Backspace (DEL)
          case '\b':
            answer = [...answer].slice(0, -1).join('');
            break;
          case '\u0015': // Ctrl-U: erase the line
            answer = '';
            break;
          default:
            if (ch >= ' ') answer += ch;
        }
      }
    };
    output.write(question);
    input.on('data', onData);
    input.resume();
  });
}
