import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import type { Case } from '../case.js';
import { expect } from '../expect.js';
import { drain, expectUvError } from '../helpers.js';

/** createReadStream and createWriteStream. */
export const streamCases: Case[] = [
  {
    id: 'streams/read-whole',
    title: 'createReadStream reads the whole file; path and bytesRead are set',
    async run({ fs, p }) {
      fs.writeFileSync(p('f'), 'stream me');
      const rs = fs.createReadStream(p('f'));
      expect(rs.path).toBe(p('f'));
      const { chunks } = await drain(rs);
      expect(Buffer.concat(chunks as Buffer[]).toString()).toBe('stream me');
      expect(rs.bytesRead).toBe(9);
    },
  },
  {
    id: 'streams/read-start-end',
    title: 'createReadStream start and end are byte offsets, end inclusive',
    async run({ fs, p }) {
      fs.writeFileSync(p('f'), '0123456789');
      const { chunks } = await drain(fs.createReadStream(p('f'), { start: 2, end: 5 }));
      expect(Buffer.concat(chunks as Buffer[]).toString()).toBe('2345');
      const rest = await drain(fs.createReadStream(p('f'), { start: 7 }));
      expect(Buffer.concat(rest.chunks as Buffer[]).toString()).toBe('789');
    },
  },
  {
    id: 'streams/read-high-water-mark',
    title: 'createReadStream highWaterMark caps each chunk',
    async run({ fs, p }) {
      fs.writeFileSync(p('f'), 'abcdefghij');
      const { chunks } = await drain(fs.createReadStream(p('f'), { highWaterMark: 3 }));
      expect(chunks.map((c) => c.toString())).toEqual(['abc', 'def', 'ghi', 'j']);
    },
  },
  {
    id: 'streams/read-encoding',
    title: 'createReadStream with an encoding gives strings',
    async run({ fs, p }) {
      fs.writeFileSync(p('f'), 'héllo');
      const { chunks } = await drain(fs.createReadStream(p('f'), { encoding: 'utf8' }));
      expect(chunks.every((c) => typeof c === 'string')).toBe(true);
      expect(chunks.join('')).toBe('héllo');
    },
  },
  {
    id: 'streams/read-enoent',
    title: "createReadStream of a missing file emits 'error' with ENOENT from open",
    async run({ fs, p }) {
      const rs = fs.createReadStream(p('missing'));
      const [err] = await once(rs, 'error');
      expectUvError(err, { code: 'ENOENT', syscall: 'open', path: p('missing') });
    },
  },
  {
    id: 'streams/read-from-fd',
    title: 'createReadStream on an fd reads from it, and closes it by default',
    async run({ fs, p }) {
      fs.writeFileSync(p('f'), 'by fd');
      const fd = fs.openSync(p('f'), 'r');
      const rs = fs.createReadStream('', { fd });
      const { chunks } = await drain(rs);
      expect(Buffer.concat(chunks as Buffer[]).toString()).toBe('by fd');
      if (!rs.closed) await once(rs, 'close');
      expect(() => fs.fstatSync(fd)).toThrow();
    },
  },
  {
    id: 'streams/write',
    title: "createWriteStream writes chunks in order; 'finish' and 'close' follow end()",
    async run({ fs, p }) {
      const ws = fs.createWriteStream(p('f'));
      expect(ws.path).toBe(p('f'));
      ws.write('one,');
      ws.write(Buffer.from('two,'));
      ws.end('three');
      await once(ws, 'finish');
      if (!ws.closed) await once(ws, 'close');
      expect(ws.bytesWritten).toBe(13);
      expect(fs.readFileSync(p('f'), 'utf8')).toBe('one,two,three');
    },
  },
  {
    id: 'streams/write-truncates',
    title: 'createWriteStream truncates an existing file by default',
    async run({ fs, p }) {
      fs.writeFileSync(p('f'), 'a much longer old content');
      const ws = fs.createWriteStream(p('f'));
      ws.end('new');
      await once(ws, 'close');
      expect(fs.readFileSync(p('f'), 'utf8')).toBe('new');
    },
  },
  {
    id: 'streams/write-flags-a',
    title: "createWriteStream with flags 'a' appends",
    async run({ fs, p }) {
      fs.writeFileSync(p('f'), 'head-');
      const ws = fs.createWriteStream(p('f'), { flags: 'a' });
      ws.end('tail');
      await once(ws, 'close');
      expect(fs.readFileSync(p('f'), 'utf8')).toBe('head-tail');
    },
  },
  {
    id: 'streams/write-start',
    title: "createWriteStream with flags 'r+' and start overwrites in the middle",
    async run({ fs, p }) {
      fs.writeFileSync(p('f'), '0123456789');
      const ws = fs.createWriteStream(p('f'), { flags: 'r+', start: 3 });
      ws.end('abc');
      await once(ws, 'close');
      expect(fs.readFileSync(p('f'), 'utf8')).toBe('012abc6789');
    },
  },
  {
    id: 'streams/write-wx-eexist',
    title: "createWriteStream with flags 'wx' on an existing file emits 'error' with EEXIST",
    async run({ fs, p }) {
      fs.writeFileSync(p('f'), 'keep');
      const ws = fs.createWriteStream(p('f'), { flags: 'wx' });
      const [err] = await once(ws, 'error');
      expectUvError(err, { code: 'EEXIST', syscall: 'open', path: p('f') });
      expect(fs.readFileSync(p('f'), 'utf8')).toBe('keep');
    },
  },
  {
    id: 'streams/pipeline-copy',
    title: 'pipeline from a read stream to a write stream copies 200 KiB exactly',
    async run({ fs, p }) {
      const data = Buffer.alloc(200 * 1024);
      for (let i = 0; i < data.length; i++) data[i] = i % 251;
      fs.writeFileSync(p('src'), data);
      await pipeline(fs.createReadStream(p('src')), fs.createWriteStream(p('dst')));
      expect(fs.readFileSync(p('dst')).equals(data)).toBe(true);
    },
  },
  {
    id: 'streams/filehandle-streams',
    title: "a FileHandle's streams and readLines work on its fd; autoClose closes the handle",
    async run({ fs, p }) {
      const w = await fs.promises.open(p('f'), 'w');
      const ws = w.createWriteStream();
      ws.write('one\ntwo\n');
      ws.end('three\n');
      await once(ws, 'close');
      expect(w.fd).toBe(-1);
      expect(fs.readFileSync(p('f'), 'utf8')).toBe('one\ntwo\nthree\n');
      const r = await fs.promises.open(p('f'), 'r');
      const rs = r.createReadStream({ start: 4, end: 6, autoClose: false });
      const got: string[] = [];
      for await (const c of rs) got.push(String(c));
      expect(got.join('')).toBe('two');
      expect(r.fd).not.toBe(-1);
      const lines: string[] = [];
      for await (const line of r.readLines()) lines.push(line);
      expect(lines).toEqual(['one', 'two', 'three']);
      expect(r.fd).toBe(-1);
    },
  },
];
