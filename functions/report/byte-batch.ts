/**
 * Text encoded straight into one reused buffer and handed on in large chunks. Both renderers
 * need it: one write per record made a zlib pipe 4.5× slower, and keeping rows as strings until
 * a batch is full let thousands of string pieces survive young-generation GCs (~100 MB more RSS);
 * encoded right away, each row's strings die young.
 */
export class ByteBatch {
  private readonly buffer: Buffer;
  private length = 0;

  /**
   * `emit` receives a view of the reused buffer (valid only during the call: copy it if it is
   * kept), or a string too long to batch. It returns true when the receiver wants the writer to
   * wait.
   */
  constructor(
    readonly capacity: number,
    private readonly emit: (chunk: Buffer | string) => boolean,
  ) {
    this.buffer = Buffer.allocUnsafe(capacity);
  }

  /** Bytes batched so far. */
  get size(): number {
    return this.length;
  }

  /** Appends `text`, emitting the batch first if `text` may not fit; true when an emit asked to wait. */
  add(text: string): boolean {
    let wait = false;
    // A UTF-16 unit never takes more than 3 UTF-8 bytes: a cheap, safe fit check.
    if (this.length + text.length * 3 > this.capacity) {
      wait = this.flush();
      if (text.length * 3 > this.capacity) return this.emit(text) || wait;
    }
    this.length += this.buffer.write(text, this.length);
    return wait;
  }

  /** Emits what is batched; true when the receiver wants the writer to wait. */
  flush(): boolean {
    if (this.length === 0) return false;
    const chunk = this.buffer.subarray(0, this.length);
    this.length = 0;
    return this.emit(chunk);
  }
}
