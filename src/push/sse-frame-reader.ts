import { createParser, type EventSourceParser, type ParseError } from 'eventsource-parser';

/** What the reader hands on: each event's `data` field, and the events it had to drop. */
export interface SseFrameSink {
  /** One complete event's data (the platform sends one `data:` line per event). */
  onData(data: string): void;
  /** An event over the size bound was dropped unread. */
  onOversized(): void;
}

/**
 * Reads a Server-Sent Events body with a bound on memory. Parsing is `eventsource-parser`'s;
 * what it adds is recovery from an event over `maxEventChars`: the parser drops its buffers and
 * stops, and the reader then skips text up to the next blank line (the end of that event) and
 * resumes there, so only the oversized event is lost, not the connection and every event a
 * reconnect would miss (the stream has no ids and no replay). An endless line without a newline
 * keeps the reader skipping, holding no more than the chunk at hand.
 */
export class SseFrameReader {
  private readonly parser: EventSourceParser;
  private skipping = false;
  private skippedEndedWithLineFeed = false;
  private overflowed = false;

  constructor(
    maxEventChars: number,
    private readonly sink: SseFrameSink,
  ) {
    this.parser = createParser({
      maxBufferSize: maxEventChars,
      // The parser bounds only what it buffers across chunks; an event whole within one chunk
      // (up to the chunk's size) is held to the same bound here.
      onEvent: (event) =>
        event.data.length > maxEventChars ? this.sink.onOversized() : this.sink.onData(event.data),
      onError: (error: ParseError) => {
        if (error.type === 'max-buffer-size-exceeded') this.overflowed = true;
      },
    });
  }

  /** Feeds one decoded chunk of the body. */
  feed(chunk: string): void {
    let rest = chunk;
    while (rest !== '') {
      if (this.skipping) {
        const end = this.endOfSkippedEvent(rest);
        if (end === -1) {
          this.skippedEndedWithLineFeed = rest.endsWith('\n');
          return;
        }
        this.skipping = false;
        this.parser.reset();
        rest = rest.slice(end);
        continue;
      }
      this.parser.feed(rest);
      if (!this.overflowed) return;
      this.overflowed = false;
      this.skipping = true;
      // The parser has already consumed this chunk: the skipped event ends in a later one.
      this.skippedEndedWithLineFeed = rest.endsWith('\n');
      this.sink.onOversized();
      return;
    }
  }

  /** Where the text after the skipped event's closing blank line starts, or -1. */
  private endOfSkippedEvent(text: string): number {
    if (this.skippedEndedWithLineFeed && text.startsWith('\n')) return 1;
    const blank = text.indexOf('\n\n');
    return blank === -1 ? -1 : blank + 2;
  }
}
