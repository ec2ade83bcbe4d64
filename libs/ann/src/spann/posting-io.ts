import { readSync } from 'node:fs';
import type * as Addon from '@recsys/spann-io';

/**
 * How a query's posting lists come off the file (all read the same bytes; they differ in what a
 * probed list costs):
 * - 'mmap': the file mapped read-only (shared: the page cache itself) by the native addon
 *   (native/spann-io) and each list copied out with memcpy: no system call per list once its
 *   pages are mapped; a page not in memory is faulted in synchronously (one at a time, with
 *   the kernel's read-around). The fastest on a warm cache.
 * - 'uring': every list of the query in one io_uring submission (queue depth = lists): page-cache
 *   hits complete inline, misses are read concurrently. The fastest on a cold cache.
 * - 'pread': one readSync per (coalesced) list, no addon (the fallback where it is not built).
 */
export type PostingIoMode = 'mmap' | 'uring' | 'pread';

type AddonModule = typeof Addon;
let addon: AddonModule | null | undefined;

/** The native addon, or null where it is not built (reads then fall back to readSync). */
export function spannIoAddon(): AddonModule | null {
  if (addon === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional native addon, loaded lazily with a readSync fallback
      addon = require('@recsys/spann-io') as AddonModule;
    } catch {
      addon = null;
    }
  }
  return addon;
}

/** The default mode: 'mmap' when the addon is built, else 'pread'. */
export function defaultIoMode(): PostingIoMode {
  return spannIoAddon() !== null ? 'mmap' : 'pread';
}

/** Modes this process can run ('uring' needs the addon and a kernel that allows io_uring). */
export function availableIoModes(): PostingIoMode[] {
  const a = spannIoAddon();
  if (a === null) return ['pread'];
  return a.uringAvailable() ? ['mmap', 'uring', 'pread'] : ['mmap', 'pread'];
}

/**
 * Reads batches of (file offset, length) ranges of one file into a destination buffer at given
 * offsets, in the configured mode. Owns the mapping of the 'mmap' mode.
 */
export class PostingReader {
  private handle = 0;
  private readonly addon: AddonModule | null;
  private modeValue: PostingIoMode;

  constructor(
    private fd: number,
    mode: PostingIoMode = defaultIoMode(),
  ) {
    this.addon = spannIoAddon();
    this.modeValue = this.check(mode);
  }

  get mode(): PostingIoMode {
    return this.modeValue;
  }

  setMode(mode: PostingIoMode): void {
    const m = this.check(mode);
    if (m !== 'mmap') this.unmap();
    this.modeValue = m;
  }

  /** Switches to another file descriptor (a new posting file generation). */
  reopen(fd: number): void {
    this.unmap();
    this.fd = fd;
  }

  /** Reads ranges [0, n) into dst (dst[dstOff[i]..] gets len[i] bytes from file offset pos[i]). */
  read(dst: Uint8Array, pos: Float64Array, len: Uint32Array, dstOff: Uint32Array, n: number): void {
    if (n === 0) return;
    const a = this.addon;
    if (a !== null && this.modeValue === 'mmap') {
      if (this.handle === 0) this.handle = a.mapFile(this.fd);
      a.gather(this.handle, dst, pos, len, dstOff, n);
      return;
    }
    if (a !== null && this.modeValue === 'uring') {
      a.readBatch(this.fd, dst, pos, len, dstOff, n, true);
      return;
    }
    for (let i = 0; i < n; i++) readFully(this.fd, dst, dstOff[i], len[i], pos[i]);
  }

  /**
   * The mapping handle for in-place scans (the 'mmap' mode with a built addon), else 0: the
   * scanner then scores records straight out of the page cache, with no copy at all.
   */
  inPlace(): number {
    const a = this.addon;
    if (a === null || this.modeValue !== 'mmap' || typeof a.scan !== 'function') return 0;
    if (this.handle === 0) this.handle = a.mapFile(this.fd);
    return this.handle;
  }

  /** addon.scan on the mapping (see native/spann-io/index.d.ts); only after inPlace() returned a handle. */
  scan(pos: number, count: number, recBytes: number, dim: number, u8: boolean, qF32: Float32Array, q16: Int16Array, thr: number, want: number, outId: Uint32Array, outD: Float32Array): number {
    return this.addon!.scan(this.handle, pos, count, recBytes, dim, u8, qF32, q16, thr, want, outId, outD);
  }

  /**
   * Drops the file's pages from the page cache (fdatasync + posix_fadvise DONTNEED; the mapping
   * is released first, since the kernel keeps mapped pages). Returns false without the addon.
   */
  dropPageCache(): boolean {
    const a = this.addon;
    if (a === null) return false;
    this.unmap();
    return a.dropCache(this.fd) === 0;
  }

  /** Bytes of the file in the page cache (mincore), or null without the addon. */
  pageCacheBytes(): { resident: number; size: number } | null {
    return this.addon?.residentBytes(this.fd) ?? null;
  }

  close(): void {
    this.unmap();
  }

  private unmap(): void {
    if (this.handle !== 0) this.addon?.unmapFile(this.handle);
    this.handle = 0;
  }

  private check(mode: PostingIoMode): PostingIoMode {
    if (!availableIoModes().includes(mode)) throw new Error(`SpannIndex: I/O mode ${mode} is not available here (${availableIoModes().join(', ')})`);
    return mode;
  }
}

/** readSync until len bytes are in. */
export function readFully(fd: number, dst: Uint8Array, off: number, len: number, pos: number): void {
  let got = 0;
  while (got < len) {
    const r = readSync(fd, dst, off + got, len - got, pos + got);
    if (r <= 0) throw new Error(`PostingStore: short read at ${pos}`);
    got += r;
  }
}
