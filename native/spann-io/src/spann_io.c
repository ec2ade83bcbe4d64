// Batched positional reads for the SPANN posting file (libs/ann/src/spann/posting-store.ts):
// one N-API call reads every probed list of a query, through one io_uring submission (raw
// syscalls, no liburing) or a pread loop in C; plus page-cache eviction (posix_fadvise
// DONTNEED) and residency (mincore) for the benchmark's cold-cache mode and memory report.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <math.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define RING_ENTRIES 128

typedef struct {
  int fd;
  unsigned *sq_head, *sq_tail, *sq_mask, *sq_array;
  unsigned *cq_head, *cq_tail, *cq_mask;
  struct io_uring_sqe *sqes;
  struct io_uring_cqe *cqes;
  unsigned entries;
} ring_t;

// One ring per process, created on first use (-1: not tried, 0: unavailable, 1: ready).
static ring_t ring;
static int ring_state = -1;

static int ring_setup(void) {
  if (ring_state >= 0) return ring_state;
  ring_state = 0;
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  int fd = (int)syscall(__NR_io_uring_setup, RING_ENTRIES, &p);
  if (fd < 0) return 0;
  size_t sq_sz = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  size_t cq_sz = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
  int single = (p.features & IORING_FEAT_SINGLE_MMAP) != 0;
  if (single && cq_sz > sq_sz) sq_sz = cq_sz;
  uint8_t *sq = mmap(NULL, sq_sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
  if (sq == MAP_FAILED) {
    close(fd);
    return 0;
  }
  uint8_t *cq = sq;
  if (!single) {
    cq = mmap(NULL, cq_sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_CQ_RING);
    if (cq == MAP_FAILED) {
      close(fd);
      return 0;
    }
  }
  void *sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
  if (sqes == MAP_FAILED) {
    close(fd);
    return 0;
  }
  ring.fd = fd;
  ring.sq_head = (unsigned *)(sq + p.sq_off.head);
  ring.sq_tail = (unsigned *)(sq + p.sq_off.tail);
  ring.sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
  ring.sq_array = (unsigned *)(sq + p.sq_off.array);
  ring.cq_head = (unsigned *)(cq + p.cq_off.head);
  ring.cq_tail = (unsigned *)(cq + p.cq_off.tail);
  ring.cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
  ring.cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
  ring.sqes = sqes;
  ring.entries = p.sq_entries;
  ring_state = 1;
  return 1;
}

// pread until len bytes are in (or EOF / error): 0 on success, else an errno (EIO for EOF).
static int pread_fully(int fd, uint8_t *dst, size_t len, off_t pos) {
  size_t got = 0;
  while (got < len) {
    ssize_t r = pread(fd, dst + got, len - got, pos + (off_t)got);
    if (r < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (r == 0) return EIO;
    got += (size_t)r;
  }
  return 0;
}

// Reads ranges [from, to) through the ring (to - from <= ring.entries); 0 or an errno.
static int uring_chunk(int fd, uint8_t *dst, const double *pos, const uint32_t *len, const uint32_t *off, uint32_t from, uint32_t to) {
  unsigned tail = *ring.sq_tail;
  unsigned mask = *ring.sq_mask;
  for (uint32_t i = from; i < to; i++) {
    unsigned idx = tail & mask;
    struct io_uring_sqe *sqe = &ring.sqes[idx];
    memset(sqe, 0, sizeof *sqe);
    sqe->opcode = IORING_OP_READ;
    sqe->fd = fd;
    sqe->off = (uint64_t)pos[i];
    sqe->addr = (uint64_t)(uintptr_t)(dst + off[i]);
    sqe->len = len[i];
    sqe->user_data = i;
    ring.sq_array[idx] = idx;
    tail++;
  }
  __atomic_store_n(ring.sq_tail, tail, __ATOMIC_RELEASE);
  unsigned want = to - from;
  unsigned submitted = 0;
  unsigned done = 0;
  int err = 0;
  while (done < want) {
    unsigned to_submit = want - submitted;
    int r = (int)syscall(__NR_io_uring_enter, ring.fd, to_submit, want - done, IORING_ENTER_GETEVENTS, NULL, 0);
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EBUSY) continue;
      return errno;
    }
    submitted += (unsigned)r;
    unsigned head = *ring.cq_head;
    unsigned ctail = __atomic_load_n(ring.cq_tail, __ATOMIC_ACQUIRE);
    while (head != ctail) {
      struct io_uring_cqe *cqe = &ring.cqes[head & *ring.cq_mask];
      uint32_t i = (uint32_t)cqe->user_data;
      int res = cqe->res;
      head++;
      done++;
      if (err != 0) continue;
      if (res < 0) {
        // A request the ring could not run (e.g. -EAGAIN): read it directly.
        err = pread_fully(fd, dst + off[i], len[i], (off_t)pos[i]);
      } else if ((uint32_t)res < len[i]) {
        err = pread_fully(fd, dst + off[i] + res, len[i] - (uint32_t)res, (off_t)pos[i] + res);
      }
    }
    __atomic_store_n(ring.cq_head, head, __ATOMIC_RELEASE);
  }
  return err;
}

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "spann-io %s: %s", what, strerror(err));
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static int typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *length) {
  napi_typedarray_type t;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &t, length, data, &ab, &off) != napi_ok || t != want) return 0;
  return 1;
}

static napi_value uring_available(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_get_boolean(env, ring_setup() == 1, &out);
  return out;
}

// readBatch(fd, dst: Uint8Array, pos: Float64Array, len: Uint32Array, dstOff: Uint32Array, n, useUring)
static napi_value read_batch(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 7) {
    napi_throw_type_error(env, NULL, "readBatch(fd, dst, pos, len, dstOff, n, useUring)");
    return NULL;
  }
  int32_t fd;
  uint32_t n;
  bool use_uring;
  void *dst, *pos, *len, *off;
  size_t dst_len, pos_len, len_len, off_len;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || !typed(env, argv[1], napi_uint8_array, &dst, &dst_len) ||
      !typed(env, argv[2], napi_float64_array, &pos, &pos_len) || !typed(env, argv[3], napi_uint32_array, &len, &len_len) ||
      !typed(env, argv[4], napi_uint32_array, &off, &off_len) || napi_get_value_uint32(env, argv[5], &n) != napi_ok ||
      napi_get_value_bool(env, argv[6], &use_uring) != napi_ok) {
    napi_throw_type_error(env, NULL, "readBatch: bad argument types");
    return NULL;
  }
  if (n > pos_len || n > len_len || n > off_len) {
    napi_throw_range_error(env, NULL, "readBatch: n exceeds the range arrays");
    return NULL;
  }
  const double *p = pos;
  const uint32_t *l = len;
  const uint32_t *o = off;
  double total = 0;
  for (uint32_t i = 0; i < n; i++) {
    if ((size_t)o[i] + l[i] > dst_len || p[i] < 0) {
      napi_throw_range_error(env, NULL, "readBatch: a range falls outside dst or the file");
      return NULL;
    }
    total += l[i];
  }
  int err = 0;
  if (use_uring && n > 1 && ring_setup() == 1) {
    for (uint32_t from = 0; from < n && err == 0; from += ring.entries) {
      uint32_t to = from + ring.entries < n ? from + ring.entries : n;
      err = uring_chunk(fd, dst, p, l, o, from, to);
    }
  } else {
    for (uint32_t i = 0; i < n && err == 0; i++) err = pread_fully(fd, (uint8_t *)dst + o[i], l[i], (off_t)p[i]);
  }
  if (err != 0) return throw_errno(env, "readBatch", err);
  napi_value out;
  napi_create_double(env, total, &out);
  return out;
}

static napi_value drop_cache(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
    napi_throw_type_error(env, NULL, "dropCache(fd)");
    return NULL;
  }
  // Dirty pages are not dropped: write them back first.
  int err = fdatasync(fd) == 0 ? 0 : errno;
  if (err == 0) err = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  napi_value out;
  napi_create_int32(env, err, &out);
  return out;
}

static napi_value resident_bytes(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
    napi_throw_type_error(env, NULL, "residentBytes(fd)");
    return NULL;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) return throw_errno(env, "residentBytes", errno);
  size_t size = (size_t)st.st_size;
  double resident = 0;
  if (size > 0) {
    long page = sysconf(_SC_PAGESIZE);
    size_t pages = (size + (size_t)page - 1) / (size_t)page;
    void *m = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) return throw_errno(env, "residentBytes mmap", errno);
    unsigned char *vec = malloc(pages);
    if (vec == NULL) {
      munmap(m, size);
      return throw_errno(env, "residentBytes", ENOMEM);
    }
    int err = mincore(m, size, vec) == 0 ? 0 : errno;
    if (err == 0) {
      for (size_t i = 0; i < pages; i++) {
        if (vec[i] & 1) resident += (i + 1 == pages) ? (double)(size - i * (size_t)page) : (double)page;
      }
    }
    free(vec);
    munmap(m, size);
    if (err != 0) return throw_errno(env, "residentBytes mincore", err);
  }
  napi_value out, r, s;
  napi_create_object(env, &out);
  napi_create_double(env, resident, &r);
  napi_create_double(env, (double)size, &s);
  napi_set_named_property(env, out, "resident", r);
  napi_set_named_property(env, out, "size", s);
  return out;
}


// Read-only shared mappings of posting files: gather() copies ranges out of the page cache with
// memcpy (no system call per list once the pages are mapped). Slot i holds fd and mapping.
#define MAX_MAPS 256
typedef struct {
  int fd;
  uint8_t *addr;
  size_t len;
} map_t;
static map_t maps[MAX_MAPS];

static int map_remap(map_t *m) {
  struct stat st;
  if (fstat(m->fd, &st) != 0) return errno;
  size_t size = (size_t)st.st_size;
  if (size == m->len) return 0;
  if (m->addr != NULL) munmap(m->addr, m->len);
  m->addr = NULL;
  m->len = 0;
  if (size == 0) return 0;
  void *a = mmap(NULL, size, PROT_READ, MAP_SHARED, m->fd, 0);
  if (a == MAP_FAILED) return errno;
  m->addr = a;
  m->len = size;
  return 0;
}

static napi_value map_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
    napi_throw_type_error(env, NULL, "mapFile(fd)");
    return NULL;
  }
  int slot = -1;
  for (int i = 0; i < MAX_MAPS; i++) {
    if (maps[i].fd == 0 && maps[i].addr == NULL) {
      slot = i;
      break;
    }
  }
  if (slot < 0) return throw_errno(env, "mapFile", EMFILE);
  maps[slot].fd = fd;
  maps[slot].addr = NULL;
  maps[slot].len = 0;
  int err = map_remap(&maps[slot]);
  if (err != 0) {
    maps[slot].fd = 0;
    return throw_errno(env, "mapFile", err);
  }
  napi_value out;
  napi_create_int32(env, slot + 1, &out);
  return out;
}

static map_t *map_arg(napi_env env, napi_value v) {
  int32_t h;
  if (napi_get_value_int32(env, v, &h) != napi_ok || h < 1 || h > MAX_MAPS || maps[h - 1].fd == 0) {
    napi_throw_type_error(env, NULL, "spann-io: not a mapping handle");
    return NULL;
  }
  return &maps[h - 1];
}

static napi_value map_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1) return NULL;
  map_t *m = map_arg(env, argv[0]);
  if (m == NULL) return NULL;
  if (m->addr != NULL) munmap(m->addr, m->len);
  m->addr = NULL;
  m->len = 0;
  m->fd = 0;
  return NULL;
}

// gather(handle, dst, pos, len, dstOff, n): memcpy of each range out of the mapping (remapped
// when the file has grown past it).
static napi_value map_gather(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 6) {
    napi_throw_type_error(env, NULL, "gather(handle, dst, pos, len, dstOff, n)");
    return NULL;
  }
  map_t *m = map_arg(env, argv[0]);
  if (m == NULL) return NULL;
  uint32_t n;
  void *dst, *pos, *len, *off;
  size_t dst_len, pos_len, len_len, off_len;
  if (!typed(env, argv[1], napi_uint8_array, &dst, &dst_len) || !typed(env, argv[2], napi_float64_array, &pos, &pos_len) ||
      !typed(env, argv[3], napi_uint32_array, &len, &len_len) || !typed(env, argv[4], napi_uint32_array, &off, &off_len) ||
      napi_get_value_uint32(env, argv[5], &n) != napi_ok) {
    napi_throw_type_error(env, NULL, "gather: bad argument types");
    return NULL;
  }
  if (n > pos_len || n > len_len || n > off_len) {
    napi_throw_range_error(env, NULL, "gather: n exceeds the range arrays");
    return NULL;
  }
  const double *p = pos;
  const uint32_t *l = len;
  const uint32_t *o = off;
  double total = 0;
  double end = 0;
  for (uint32_t i = 0; i < n; i++) {
    if ((size_t)o[i] + l[i] > dst_len || p[i] < 0) {
      napi_throw_range_error(env, NULL, "gather: a range falls outside dst");
      return NULL;
    }
    if (p[i] + l[i] > end) end = p[i] + l[i];
    total += l[i];
  }
  if (end > (double)m->len) {
    int err = map_remap(m);
    if (err != 0) return throw_errno(env, "gather remap", err);
    if (end > (double)m->len) return throw_errno(env, "gather", EIO);
  }
  for (uint32_t i = 0; i < n; i++) memcpy((uint8_t *)dst + o[i], m->addr + (size_t)p[i], l[i]);
  napi_value out;
  napi_create_double(env, total, &out);
  return out;
}

// ---- Scans in place: squared L2 of a query against the records of one list, read straight out
// of the mapping (no copy), compiled for this CPU (-march, see binding.gyp). A record is
// [u32 id][dim values] (f32, or u8 padded to 4 bytes), recBytes apart.

#if defined(__AVX2__)
#include <immintrin.h>
static inline float hsum_ps(__m256 v) {
  __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  x = _mm_add_ps(x, _mm_movehl_ps(x, x));
  x = _mm_add_ss(x, _mm_shuffle_ps(x, x, 1));
  return _mm_cvtss_f32(x);
}
static inline int32_t hsum_epi32(__m256i v) {
  __m128i x = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  x = _mm_add_epi32(x, _mm_shuffle_epi32(x, 0x4e));
  x = _mm_add_epi32(x, _mm_shuffle_epi32(x, 0xb1));
  return _mm_cvtsi128_si32(x);
}
#endif

// Squared L2, abandoned (returning a value >= thr) once a 64-dimension block takes it past thr.
static inline float l2_f32(const float *q, const float *x, uint32_t dim, float thr) {
  float s = 0;
  uint32_t i = 0;
#if defined(__AVX2__)
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  for (; i + 16 <= dim; i += 16) {
    __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(q + i), _mm256_loadu_ps(x + i));
    __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(q + i + 8), _mm256_loadu_ps(x + i + 8));
#if defined(__FMA__)
    a0 = _mm256_fmadd_ps(d0, d0, a0);
    a1 = _mm256_fmadd_ps(d1, d1, a1);
#else
    a0 = _mm256_add_ps(a0, _mm256_mul_ps(d0, d0));
    a1 = _mm256_add_ps(a1, _mm256_mul_ps(d1, d1));
#endif
    if ((i & 63) == 48 && i + 16 < dim && hsum_ps(_mm256_add_ps(a0, a1)) >= thr) return thr;
  }
  s = hsum_ps(_mm256_add_ps(a0, a1));
#endif
  for (; i < dim; i++) {
    float d = q[i] - x[i];
    s += d * d;
  }
  return s;
}

static inline float l2_u8(const int16_t *q, const uint8_t *x, uint32_t dim, float thr) {
  int32_t s = 0;
  uint32_t i = 0;
#if defined(__AVX2__)
  __m256i acc = _mm256_setzero_si256();
  for (; i + 16 <= dim; i += 16) {
    __m256i xv = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(x + i)));
    __m256i d = _mm256_sub_epi16(_mm256_loadu_si256((const __m256i *)(q + i)), xv);
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(d, d));
    if ((i & 63) == 48 && i + 16 < dim && (float)hsum_epi32(acc) >= thr) return thr;
  }
  s = hsum_epi32(acc);
#endif
  for (; i < dim; i++) {
    int32_t d = (int32_t)q[i] - (int32_t)x[i];
    s += d * d;
  }
  return (float)s;
}

// scan(handle, pos, count, recBytes, dim, u8, qF32, q16, thr, want, outId, outD) -> n
// want = 0: every record with distance < thr, in file order. want > 0: the want nearest records
// under thr, ascending. (id, distance) pairs go to outId / outD.
static napi_value map_scan(napi_env env, napi_callback_info info) {
  size_t argc = 12;
  napi_value argv[12];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 12) {
    napi_throw_type_error(env, NULL, "scan(handle, pos, count, recBytes, dim, u8, qF32, q16, thr, want, outId, outD)");
    return NULL;
  }
  map_t *m = map_arg(env, argv[0]);
  if (m == NULL) return NULL;
  double pos, thr_d;
  uint32_t count, rec, dim, want;
  bool u8;
  void *qf, *q16, *oid, *od;
  size_t qf_len, q16_len, oid_len, od_len;
  if (napi_get_value_double(env, argv[1], &pos) != napi_ok || napi_get_value_uint32(env, argv[2], &count) != napi_ok ||
      napi_get_value_uint32(env, argv[3], &rec) != napi_ok || napi_get_value_uint32(env, argv[4], &dim) != napi_ok ||
      napi_get_value_bool(env, argv[5], &u8) != napi_ok || !typed(env, argv[6], napi_float32_array, &qf, &qf_len) ||
      !typed(env, argv[7], napi_int16_array, &q16, &q16_len) || napi_get_value_double(env, argv[8], &thr_d) != napi_ok ||
      napi_get_value_uint32(env, argv[9], &want) != napi_ok || !typed(env, argv[10], napi_uint32_array, &oid, &oid_len) ||
      !typed(env, argv[11], napi_float32_array, &od, &od_len)) {
    napi_throw_type_error(env, NULL, "scan: bad argument types");
    return NULL;
  }
  if ((u8 ? q16_len : qf_len) < dim || oid_len < count || od_len < count || rec < 4 + (u8 ? dim : dim * 4)) {
    napi_throw_range_error(env, NULL, "scan: arrays too small");
    return NULL;
  }
  double end = pos + (double)count * rec;
  if (end > (double)m->len) {
    int err = map_remap(m);
    if (err != 0) return throw_errno(env, "scan remap", err);
    if (end > (double)m->len) return throw_errno(env, "scan", EIO);
  }
  const uint8_t *base = m->addr + (size_t)pos;
  uint32_t *ids = oid;
  float *ds = od;
  float thr = thr_d > 3.0e38 ? INFINITY : (float)thr_d;
  uint32_t n = 0;
  for (uint32_t r = 0; r < count; r++) {
    const uint8_t *row = base + (size_t)r * rec;
    float cut = (want > 0 && n >= want) ? ds[want - 1] : thr;
    float d = u8 ? l2_u8(q16, row + 4, dim, cut) : l2_f32(qf, (const float *)(row + 4), dim, cut);
    if (!(d < cut)) continue;
    uint32_t id;
    memcpy(&id, row, 4);
    if (want == 0) {
      ids[n] = id;
      ds[n++] = d;
      continue;
    }
    // Insertion into the ascending top-want list.
    uint32_t j = n < want ? n++ : want - 1;
    while (j > 0 && ds[j - 1] > d) {
      ds[j] = ds[j - 1];
      ids[j] = ids[j - 1];
      j--;
    }
    ds[j] = d;
    ids[j] = id;
  }
  napi_value out;
  napi_create_uint32(env, n, &out);
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"uringAvailable", NULL, uring_available, NULL, NULL, NULL, napi_default, NULL},
      {"readBatch", NULL, read_batch, NULL, NULL, NULL, napi_default, NULL},
      {"dropCache", NULL, drop_cache, NULL, NULL, NULL, napi_default, NULL},
      {"residentBytes", NULL, resident_bytes, NULL, NULL, NULL, napi_default, NULL},
      {"mapFile", NULL, map_open, NULL, NULL, NULL, napi_default, NULL},
      {"unmapFile", NULL, map_close, NULL, NULL, NULL, napi_default, NULL},
      {"gather", NULL, map_gather, NULL, NULL, NULL, napi_default, NULL},
      {"scan", NULL, map_scan, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
