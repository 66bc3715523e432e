import * as nodeFs from 'node:fs';
import type { FileHandle as NodeFileHandle } from 'node:fs/promises';
import { createInterface, type Interface } from 'node:readline';
import { Readable } from 'node:stream';
import type { ZufsSync } from './sync.js';

type AnyFn = (...args: unknown[]) => unknown;

/**
 * promises.open's FileHandle: its methods run the *Sync ones on its fd until close(). Its public type
 * is node:fs/promises' (the FileHandle interface below); the implementation takes its arguments loosely
 * and checks them as the *Sync methods do.
 */
const FileHandleClass = class FileHandle {
  #fd: number;
  constructor(
    fd: number,
    private readonly s: ZufsSync,
    /** The face's callback calls a stream drives (open, read, write, writev, close). */
    private readonly streamFs: Record<string, AnyFn>,
  ) {
    this.#fd = fd;
  }
  /** The stream's calls, with close() closing this handle (autoClose ends the handle, as Node's). */
  private streamCalls(): Record<string, AnyFn> {
    const close: AnyFn = (_fd, cb) => {
      const done = cb as (e: Error | null) => void;
      this.close().then(() => done(null), done);
    };
    return { ...this.streamFs, close };
  }
  createReadStream(o?: Record<string, unknown>): nodeFs.ReadStream {
    const fd = this.use('read');
    return nodeFs.createReadStream(null as never, { ...o, fd, fs: this.streamCalls() } as never);
  }
  createWriteStream(o?: Record<string, unknown>): nodeFs.WriteStream {
    const fd = this.use('write');
    return nodeFs.createWriteStream(null as never, { ...o, fd, fs: this.streamCalls() } as never);
  }
  /** The file's lines, as Node's: a readline Interface over createReadStream(o). */
  readLines(o?: Record<string, unknown>): Interface {
    return createInterface({ input: this.createReadStream(o), crlfDelay: Number.POSITIVE_INFINITY });
  }
  /** The file as a web ReadableStream of byte chunks. */
  readableWebStream(): ReadableStream {
    return Readable.toWeb(this.createReadStream()) as ReadableStream;
  }
  /** The descriptor; -1 once closed (as Node's). */
  get fd(): number {
    return this.#fd;
  }
  /** The open descriptor; after close(), Node's `file closed` EBADF. */
  private use(syscall: string): number {
    if (this.#fd === -1) throw Object.assign(new Error('file closed'), { code: 'EBADF', syscall });
    return this.#fd;
  }
  /** read(buffer, offset?, length?, position?), read(buffer, options?) or read(options?), as Node's. */
  async read(bufferOrOptions?: unknown, offset?: unknown, length?: unknown, position?: unknown) {
    const fd = this.use('read');
    let buffer = bufferOrOptions as ArrayBufferView;
    if (!ArrayBuffer.isView(bufferOrOptions)) {
      offset = (bufferOrOptions ?? {}) as Record<string, unknown>;
      buffer = (offset as { buffer?: ArrayBufferView }).buffer ?? Buffer.alloc(16384);
    }
    if (offset !== null && typeof offset === 'object') {
      const o = offset as Record<string, unknown>;
      offset = o.offset;
      length = o.length;
      position = o.position;
    }
    offset ??= 0;
    length ??= buffer.byteLength - (typeof offset === 'number' ? offset : 0);
    const bytesRead = this.s.readSync(fd, buffer, offset, length, position ?? null);
    return { bytesRead, buffer };
  }
  async write(buffer: Uint8Array | string, ...rest: unknown[]) {
    const fd = this.use('write');
    // An empty buffer writes nothing, whatever the other arguments say (as Node's).
    if (typeof buffer !== 'string' && buffer?.byteLength === 0) return { bytesWritten: 0, buffer };
    const bytesWritten = this.s.writeSync(fd, buffer, ...(rest as [unknown, unknown, unknown]));
    return { bytesWritten, buffer };
  }
  async readFile(o?: unknown) {
    return this.s.readFileSync(this.use('read'), o);
  }
  async writeFile(data: unknown, o?: unknown) {
    return this.s.writeFileSync(this.use('write'), data, o);
  }
  async appendFile(data: unknown, o?: unknown) {
    return this.s.writeFileSync(this.use('write'), data, o);
  }
  async stat(o?: unknown) {
    return this.s.fstatSync(this.use('fstat'), o);
  }
  async truncate(len?: number) {
    return this.s.ftruncateSync(this.use('ftruncate'), len);
  }
  async sync() {
    return this.s.fsyncSync(this.use('fsync'));
  }
  async datasync() {
    return this.s.fdatasyncSync(this.use('fdatasync'));
  }
  async chmod(mode: number) {
    return this.s.fchmodSync(this.use('fchmod'), mode);
  }
  async utimes(a: unknown, m: unknown) {
    return this.s.futimesSync(this.use('futime'), a, m);
  }
  async writev(buffers: ArrayBufferView[], position?: number | null) {
    const bytesWritten = this.s.writevSync(this.use('writev'), buffers, position);
    return { bytesWritten, buffers };
  }
  async readv(buffers: ArrayBufferView[], position?: number | null) {
    const bytesRead = this.s.readvSync(this.use('readv'), buffers, position);
    return { bytesRead, buffers };
  }
  async chown(uid: number, gid: number) {
    return this.s.fchownSync(this.use('fchown'), uid, gid);
  }
  /** Closes the fd; a second close does nothing. */
  async close() {
    if (this.#fd === -1) return;
    const fd = this.#fd;
    this.#fd = -1;
    this.s.closeSync(fd);
  }
  /** `await using fh = await fs.promises.open(...)` closes it at the end of the block. */
  async [Symbol.asyncDispose]() {
    return this.close();
  }
};

/** What the face's FileHandle has of node:fs/promises' FileHandle (all of Node 20's). */
type FileHandleMember =
  | 'fd'
  | 'read'
  | 'readv'
  | 'readFile'
  | 'readLines'
  | 'readableWebStream'
  | 'createReadStream'
  | 'write'
  | 'writev'
  | 'writeFile'
  | 'appendFile'
  | 'createWriteStream'
  | 'stat'
  | 'truncate'
  | 'sync'
  | 'datasync'
  | 'chmod'
  | 'chown'
  | 'utimes'
  | 'close'
  | typeof Symbol.asyncDispose;

/**
 * A file open through `promises.open`, typed as node:fs/promises' FileHandle: readFile() is a Buffer
 * and readFile('utf8') a string, read() and write() have Node's overloads, and so on.
 */
export interface FileHandle extends Pick<NodeFileHandle, FileHandleMember> {}
/** The FileHandle class (`instanceof FileHandle` works); promises.open makes them. */
export const FileHandle = FileHandleClass as unknown as {
  new (fd: number, s: ZufsSync, streamFs: Record<string, AnyFn>): FileHandle;
  readonly prototype: FileHandle;
};
