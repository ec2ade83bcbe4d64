/** Batched reads, page-cache eviction and residency for one file descriptor (see README.md). */

/** True when an io_uring could be set up (kernel >= 5.6 and not disabled by sysctl or seccomp). */
export function uringAvailable(): boolean;

/**
 * Reads n ranges of the file fd: range i is len[i] bytes at file offset pos[i], written to
 * dst[dstOff[i] ..]. useUring: all n reads go to the kernel in one io_uring_enter (queue depth n;
 * page-cache hits complete inline, misses run concurrently); else one pread per range, in C.
 * Short reads are completed with pread. Returns the bytes read; throws on an I/O error or EOF.
 */
export function readBatch(fd: number, dst: Uint8Array, pos: Float64Array, len: Uint32Array, dstOff: Uint32Array, n: number, useUring: boolean): number;

/** fdatasync + posix_fadvise(POSIX_FADV_DONTNEED) over the whole file: drops its clean pages from the page cache. Returns 0 or an errno. */
export function dropCache(fd: number): number;

/** Bytes of the file currently in the page cache (mmap + mincore), and the file size. */
export function residentBytes(fd: number): { resident: number; size: number };

/**
 * Maps the file fd read-only (shared: the page cache itself) and returns a handle for gather().
 * The mapping follows the file as it grows (remapped when a range falls past its end).
 */
export function mapFile(fd: number): number;

/** Unmaps a handle from mapFile (the fd stays open). */
export function unmapFile(handle: number): void;

/**
 * Copies n ranges of the mapped file into dst (as readBatch, but with memcpy out of the page
 * cache: no system call once the pages are mapped; a page not in memory faults it in). Returns
 * the bytes copied.
 */
export function gather(handle: number, dst: Uint8Array, pos: Float64Array, len: Uint32Array, dstOff: Uint32Array, n: number): number;

/**
 * Squared L2 of a query against `count` records of a mapped file starting at byte pos (record:
 * [u32 id][dim values], recBytes apart; u8 values against the query as int16 q16, else f32
 * against qF32), read in place. want = 0: every record under thr, in file order; want > 0: the
 * want nearest under thr, ascending. Writes (id, distance) to outId / outD; returns the count.
 */
export function scan(
  handle: number,
  pos: number,
  count: number,
  recBytes: number,
  dim: number,
  u8: boolean,
  qF32: Float32Array,
  q16: Int16Array,
  thr: number,
  want: number,
  outId: Uint32Array,
  outD: Float32Array,
): number;
