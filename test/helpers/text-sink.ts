import { Writable } from 'node:stream';

/** A stream that keeps what is written to it (a command's output in-process). */
export function textSink(): { readonly stream: Writable; text(): string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _e, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}
