// A Backend that keeps the sessions it loads and hands the same one back for the same model bytes, so
// a worker fitting many signals of one size compiles its train step and render graph once and then only
// feeds each fit its own state (a session holds no state between runs: every input is fed each run).
// A session's release() by its user is a no-op until the cache drops it (least recently used, beyond
// `keep` models: signals of many sizes, such as clips, do not pile up sessions) or close() ends it.
import type { Backend, Session } from '../runtime/session.ts';

interface Entry {
  model: Uint8Array;
  key: string;
  session: Promise<Session>;
  users: number;
  used: number;
}

/** FNV-1a over the bytes: a cheap first look before the bytes are compared. */
function fnv(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return h >>> 0;
}

const same = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);

export interface ReusingBackend extends Backend {
  /** Sessions loaded, and loads answered from the cache. */
  readonly stats: { loaded: number; reused: number };
  close(): Promise<void>;
}

export function reusingBackend(inner: Backend, keep = 4): ReusingBackend {
  const entries: Entry[] = [];
  let clock = 0;
  const stats = { loaded: 0, reused: 0 };
  const drop = async (e: Entry): Promise<void> => {
    entries.splice(entries.indexOf(e), 1);
    await (await e.session).release();
  };
  return {
    name: inner.name,
    stats,
    async load(model, lo) {
      const key = `${fnv(model)}:${model.length}:${JSON.stringify(lo ?? {})}`;
      let e = entries.find((x) => x.key === key && same(x.model, model));
      if (e) stats.reused++;
      else {
        e = { model: model.slice(), key, session: inner.load(model, lo), users: 0, used: 0 };
        entries.push(e);
        stats.loaded++;
        const idle = entries.filter((x) => x.users === 0 && x !== e).sort((a, b) => a.used - b.used);
        while (entries.length > keep && idle.length > 0) await drop(idle.shift()!);
      }
      const entry = e;
      entry.used = ++clock;
      let s: Session;
      try {
        s = await entry.session;
      } catch (err) {
        entries.splice(entries.indexOf(entry), 1);
        throw err;
      }
      entry.users++;
      let released = false;
      return {
        backend: s.backend,
        inputNames: s.inputNames,
        outputNames: s.outputNames,
        run: (feeds) => s.run(feeds),
        upload: (t) => s.upload(t),
        download: (v) => s.download(v),
        dispose: (v) => s.dispose(v),
        release: () => {
          if (!released) entry.users--;
          released = true;
          return Promise.resolve();
        },
      };
    },
    async close() {
      for (const e of [...entries]) await drop(e);
    },
  };
}
