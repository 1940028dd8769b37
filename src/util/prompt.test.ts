import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { PromptAborted, promptHidden } from './prompt.js';

/** A stand-in for a TTY stdin: records raw-mode switches and pauses. */
class FakeTty extends EventEmitter {
  readonly isTTY = true;
  isRaw = false;
  readonly modes: boolean[] = [];
  paused = true;
  setRawMode(mode: boolean): this {
    this.isRaw = mode;
    this.modes.push(mode);
    return this;
  }
  resume(): this {
    this.paused = false;
    return this;
  }
  pause(): this {
    this.paused = true;
    return this;
  }
  type(s: string): void {
    this.emit('data', Buffer.from(s, 'utf8'));
  }
}

function output(): { text: string; write(s: string): void } {
  return {
    text: '',
    write(s: string) {
      this.text += s;
    },
  };
}

describe('promptHidden (set-admin on a terminal)', () => {
  it('raw mode while reading, nothing echoed, raw mode restored, Enter ends', async () => {
    const tty = new FakeTty();
    const out = output();
    const answer = promptHidden('Password: ', tty, out);
    expect(tty.isRaw).toBe(true);
    tty.type('s3cr');
    tty.type('et-päss\r');
    expect(await answer).toBe('s3cret-päss');
    expect(out.text).toBe('Password: \n');
    expect(tty.modes).toEqual([true, false]);
    expect(tty.paused).toBe(true);
    expect(tty.listenerCount('data')).toBe(0);
  });

  it('Backspace and Ctrl-U edit; control characters are dropped', async () => {
    const tty = new FakeTty();
    const answer = promptHidden('P: ', tty, output());
    tty.type('abx\u007fc\u0015xyz\bw\u0001\n');
    expect(await answer).toBe('xyw');
  });

  it('Ctrl-C aborts; Ctrl-D on an empty answer aborts; raw mode is restored either way', async () => {
    const a = new FakeTty();
    const first = promptHidden('P: ', a, output());
    a.type('ab\u0003');
    await expect(first).rejects.toBeInstanceOf(PromptAborted);
    expect(a.isRaw).toBe(false);
    const b = new FakeTty();
    const second = promptHidden('P: ', b, output());
    b.type('\u0004');
    await expect(second).rejects.toThrow('no password given');
    expect(b.isRaw).toBe(false);
  });
});
