;; SIMD distance kernels for the SPANN index (WebAssembly SIMD, f32x4).
;; Compiled into KERNELS_WASM in simd-memory.ts (base64); regenerate with wabt's wat2wasm:
;;   wat2wasm simd-kernels.wat -o /tmp/k.wasm && base64 -w0 /tmp/k.wasm
;; All pointers are byte offsets into the exported memory; vectors need no alignment.
;; The distance bodies are written out in every function (16 floats per step, four f32x4
;; accumulators): a call per row cost ~8 ns on a ~19 ns 128-d distance in V8.
(module
  (memory (export "mem") 1)

  ;; out[r] = |q - row_r|^2 for r < count, row_r at base + r * stride.
  (func (export "l2_rows") (param $q i32) (param $base i32) (param $count i32) (param $stride i32) (param $dim i32) (param $out i32)
    (local $r i32) (local $qp i32) (local $pp i32) (local $end16 i32) (local $end i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $d v128) (local $s f32) (local $t f32)
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $r) (local.get $count)))
        (local.set $qp (local.get $q))
        (local.set $pp (local.get $base))
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $a1 (v128.const i32x4 0 0 0 0))
        (local.set $a2 (v128.const i32x4 0 0 0 0))
        (local.set $a3 (v128.const i32x4 0 0 0 0))
        (local.set $end16 (i32.add (local.get $pp) (i32.shl (i32.and (local.get $dim) (i32.const -16)) (i32.const 2))))
        (local.set $end (i32.add (local.get $pp) (i32.shl (local.get $dim) (i32.const 2))))
        (block $e16
          (loop $l16
            (br_if $e16 (i32.ge_u (local.get $pp) (local.get $end16)))
            (local.set $d (f32x4.sub (v128.load (local.get $qp)) (v128.load (local.get $pp))))
            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $d) (local.get $d))))
            (local.set $d (f32x4.sub (v128.load offset=16 (local.get $qp)) (v128.load offset=16 (local.get $pp))))
            (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $d) (local.get $d))))
            (local.set $d (f32x4.sub (v128.load offset=32 (local.get $qp)) (v128.load offset=32 (local.get $pp))))
            (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $d) (local.get $d))))
            (local.set $d (f32x4.sub (v128.load offset=48 (local.get $qp)) (v128.load offset=48 (local.get $pp))))
            (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $d) (local.get $d))))
            (local.set $qp (i32.add (local.get $qp) (i32.const 64)))
            (local.set $pp (i32.add (local.get $pp) (i32.const 64)))
            (br $l16)))
        (local.set $d (f32x4.add (f32x4.add (local.get $a0) (local.get $a1)) (f32x4.add (local.get $a2) (local.get $a3))))
        (local.set $s (f32.add
          (f32.add (f32x4.extract_lane 0 (local.get $d)) (f32x4.extract_lane 1 (local.get $d)))
          (f32.add (f32x4.extract_lane 2 (local.get $d)) (f32x4.extract_lane 3 (local.get $d)))))
        (block $e1
          (loop $l1
            (br_if $e1 (i32.ge_u (local.get $pp) (local.get $end)))
            (local.set $t (f32.sub (f32.load (local.get $qp)) (f32.load (local.get $pp))))
            (local.set $s (f32.add (local.get $s) (f32.mul (local.get $t) (local.get $t))))
            (local.set $qp (i32.add (local.get $qp) (i32.const 4)))
            (local.set $pp (i32.add (local.get $pp) (i32.const 4)))
            (br $l1)))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2))) (local.get $s))
        (local.set $base (i32.add (local.get $base) (local.get $stride)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows))))

  ;; out[r] = q . row_r for r < count, row_r at base + r * stride.
  (func (export "dot_rows") (param $q i32) (param $base i32) (param $count i32) (param $stride i32) (param $dim i32) (param $out i32)
    (local $r i32) (local $qp i32) (local $pp i32) (local $end16 i32) (local $end i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $d v128) (local $s f32) (local $t f32)
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $r) (local.get $count)))
        (local.set $qp (local.get $q))
        (local.set $pp (local.get $base))
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $a1 (v128.const i32x4 0 0 0 0))
        (local.set $a2 (v128.const i32x4 0 0 0 0))
        (local.set $a3 (v128.const i32x4 0 0 0 0))
        (local.set $end16 (i32.add (local.get $pp) (i32.shl (i32.and (local.get $dim) (i32.const -16)) (i32.const 2))))
        (local.set $end (i32.add (local.get $pp) (i32.shl (local.get $dim) (i32.const 2))))
        (block $e16
          (loop $l16
            (br_if $e16 (i32.ge_u (local.get $pp) (local.get $end16)))
            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load (local.get $qp)) (v128.load (local.get $pp)))))
            (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (v128.load offset=16 (local.get $qp)) (v128.load offset=16 (local.get $pp)))))
            (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (v128.load offset=32 (local.get $qp)) (v128.load offset=32 (local.get $pp)))))
            (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (v128.load offset=48 (local.get $qp)) (v128.load offset=48 (local.get $pp)))))
            (local.set $qp (i32.add (local.get $qp) (i32.const 64)))
            (local.set $pp (i32.add (local.get $pp) (i32.const 64)))
            (br $l16)))
        (local.set $d (f32x4.add (f32x4.add (local.get $a0) (local.get $a1)) (f32x4.add (local.get $a2) (local.get $a3))))
        (local.set $s (f32.add
          (f32.add (f32x4.extract_lane 0 (local.get $d)) (f32x4.extract_lane 1 (local.get $d)))
          (f32.add (f32x4.extract_lane 2 (local.get $d)) (f32x4.extract_lane 3 (local.get $d)))))
        (block $e1
          (loop $l1
            (br_if $e1 (i32.ge_u (local.get $pp) (local.get $end)))
            (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $qp)) (f32.load (local.get $pp)))))
            (local.set $qp (i32.add (local.get $qp) (i32.const 4)))
            (local.set $pp (i32.add (local.get $pp) (i32.const 4)))
            (br $l1)))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2))) (local.get $s))
        (local.set $base (i32.add (local.get $base) (local.get $stride)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows))))

  ;; Posting scan with a cut-off: only rows with |q - row|^2 < thr are written, as (row index,
  ;; distance) pairs at outIdx / outD; returns how many (thr = +inf keeps every row). A row is
  ;; abandoned once its partial sum (checked every 64 floats) reaches thr: the sum only grows.
  ;; On SIFT-like rows that mostly miss the top-k this cuts the kernel from ~19 to ~11 ns.
  (func (export "l2_rows_lt") (param $q i32) (param $base i32) (param $count i32) (param $stride i32) (param $dim i32)
    (param $thr f32) (param $outIdx i32) (param $outD i32) (result i32)
    (local $r i32) (local $n i32) (local $chk i32) (local $qp i32) (local $pp i32) (local $end16 i32) (local $end i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $d v128) (local $s f32) (local $t f32)
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $r) (local.get $count)))
        (block $skip
          (local.set $qp (local.get $q))
          (local.set $pp (local.get $base))
          (local.set $a0 (v128.const i32x4 0 0 0 0))
          (local.set $a1 (v128.const i32x4 0 0 0 0))
          (local.set $a2 (v128.const i32x4 0 0 0 0))
          (local.set $a3 (v128.const i32x4 0 0 0 0))
          (local.set $end16 (i32.add (local.get $pp) (i32.shl (i32.and (local.get $dim) (i32.const -16)) (i32.const 2))))
          (local.set $end (i32.add (local.get $pp) (i32.shl (local.get $dim) (i32.const 2))))
          (local.set $chk (i32.add (local.get $pp) (i32.const 256)))
          (block $e16
            (loop $l16
              (br_if $e16 (i32.ge_u (local.get $pp) (local.get $end16)))
              (local.set $d (f32x4.sub (v128.load (local.get $qp)) (v128.load (local.get $pp))))
              (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $d) (local.get $d))))
              (local.set $d (f32x4.sub (v128.load offset=16 (local.get $qp)) (v128.load offset=16 (local.get $pp))))
              (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $d) (local.get $d))))
              (local.set $d (f32x4.sub (v128.load offset=32 (local.get $qp)) (v128.load offset=32 (local.get $pp))))
              (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $d) (local.get $d))))
              (local.set $d (f32x4.sub (v128.load offset=48 (local.get $qp)) (v128.load offset=48 (local.get $pp))))
              (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $d) (local.get $d))))
              (local.set $qp (i32.add (local.get $qp) (i32.const 64)))
              (local.set $pp (i32.add (local.get $pp) (i32.const 64)))
              (if (i32.ge_u (local.get $pp) (local.get $chk))
                (then
                  (local.set $chk (i32.add (local.get $chk) (i32.const 256)))
                  (local.set $d (f32x4.add (f32x4.add (local.get $a0) (local.get $a1)) (f32x4.add (local.get $a2) (local.get $a3))))
                  (br_if $skip (f32.ge
                    (f32.add (f32.add (f32x4.extract_lane 0 (local.get $d)) (f32x4.extract_lane 1 (local.get $d)))
                             (f32.add (f32x4.extract_lane 2 (local.get $d)) (f32x4.extract_lane 3 (local.get $d))))
                    (local.get $thr)))))
              (br $l16)))
          (local.set $d (f32x4.add (f32x4.add (local.get $a0) (local.get $a1)) (f32x4.add (local.get $a2) (local.get $a3))))
          (local.set $s (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $d)) (f32x4.extract_lane 1 (local.get $d)))
            (f32.add (f32x4.extract_lane 2 (local.get $d)) (f32x4.extract_lane 3 (local.get $d)))))
          (block $e1
            (loop $l1
              (br_if $e1 (i32.ge_u (local.get $pp) (local.get $end)))
              (local.set $t (f32.sub (f32.load (local.get $qp)) (f32.load (local.get $pp))))
              (local.set $s (f32.add (local.get $s) (f32.mul (local.get $t) (local.get $t))))
              (local.set $qp (i32.add (local.get $qp) (i32.const 4)))
              (local.set $pp (i32.add (local.get $pp) (i32.const 4)))
              (br $l1)))
          (br_if $skip (i32.eqz (f32.lt (local.get $s) (local.get $thr))))
          (i32.store (i32.add (local.get $outIdx) (i32.shl (local.get $n) (i32.const 2))) (local.get $r))
          (f32.store (i32.add (local.get $outD) (i32.shl (local.get $n) (i32.const 2))) (local.get $s))
          (local.set $n (i32.add (local.get $n) (i32.const 1))))
        (local.set $base (i32.add (local.get $base) (local.get $stride)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows)))
    (local.get $n))

  ;; Inner-product scan with a cut-off: rows with q . row > thr, as (row index, dot) pairs at
  ;; outIdx / outD; returns how many (thr = -inf keeps every row).
  (func (export "dot_rows_gt") (param $q i32) (param $base i32) (param $count i32) (param $stride i32) (param $dim i32)
    (param $thr f32) (param $outIdx i32) (param $outD i32) (result i32)
    (local $r i32) (local $n i32) (local $chk i32) (local $qp i32) (local $pp i32) (local $end16 i32) (local $end i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $d v128) (local $s f32) (local $t f32)
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $r) (local.get $count)))
        (block $skip
          (local.set $qp (local.get $q))
          (local.set $pp (local.get $base))
          (local.set $a0 (v128.const i32x4 0 0 0 0))
          (local.set $a1 (v128.const i32x4 0 0 0 0))
          (local.set $a2 (v128.const i32x4 0 0 0 0))
          (local.set $a3 (v128.const i32x4 0 0 0 0))
          (local.set $end16 (i32.add (local.get $pp) (i32.shl (i32.and (local.get $dim) (i32.const -16)) (i32.const 2))))
          (local.set $end (i32.add (local.get $pp) (i32.shl (local.get $dim) (i32.const 2))))
          (block $e16
            (loop $l16
              (br_if $e16 (i32.ge_u (local.get $pp) (local.get $end16)))
              (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load (local.get $qp)) (v128.load (local.get $pp)))))
              (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (v128.load offset=16 (local.get $qp)) (v128.load offset=16 (local.get $pp)))))
              (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (v128.load offset=32 (local.get $qp)) (v128.load offset=32 (local.get $pp)))))
              (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (v128.load offset=48 (local.get $qp)) (v128.load offset=48 (local.get $pp)))))
              (local.set $qp (i32.add (local.get $qp) (i32.const 64)))
              (local.set $pp (i32.add (local.get $pp) (i32.const 64)))
              (br $l16)))
          (local.set $d (f32x4.add (f32x4.add (local.get $a0) (local.get $a1)) (f32x4.add (local.get $a2) (local.get $a3))))
          (local.set $s (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $d)) (f32x4.extract_lane 1 (local.get $d)))
            (f32.add (f32x4.extract_lane 2 (local.get $d)) (f32x4.extract_lane 3 (local.get $d)))))
          (block $e1
            (loop $l1
              (br_if $e1 (i32.ge_u (local.get $pp) (local.get $end)))
              (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $qp)) (f32.load (local.get $pp)))))
              (local.set $qp (i32.add (local.get $qp) (i32.const 4)))
              (local.set $pp (i32.add (local.get $pp) (i32.const 4)))
              (br $l1)))
          (br_if $skip (i32.eqz (f32.gt (local.get $s) (local.get $thr))))
          (i32.store (i32.add (local.get $outIdx) (i32.shl (local.get $n) (i32.const 2))) (local.get $r))
          (f32.store (i32.add (local.get $outD) (i32.shl (local.get $n) (i32.const 2))) (local.get $s))
          (local.set $n (i32.add (local.get $n) (i32.const 1))))
        (local.set $base (i32.add (local.get $base) (local.get $stride)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows)))
    (local.get $n))

  ;; out[j] = |q - v_ids[j]|^2 for j < n, v_i at vecs + i * dim * 4 (ids: u32 array).
  (func (export "l2_ids") (param $q i32) (param $vecs i32) (param $ids i32) (param $n i32) (param $dim i32) (param $out i32)
    (local $j i32) (local $rowBytes i32) (local $qp i32) (local $pp i32) (local $end16 i32) (local $end i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $d v128) (local $s f32) (local $t f32)
    (local.set $rowBytes (i32.shl (local.get $dim) (i32.const 2)))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $qp (local.get $q))
        (local.set $pp (i32.add (local.get $vecs)
          (i32.mul (i32.load (i32.add (local.get $ids) (i32.shl (local.get $j) (i32.const 2)))) (local.get $rowBytes))))
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $a1 (v128.const i32x4 0 0 0 0))
        (local.set $a2 (v128.const i32x4 0 0 0 0))
        (local.set $a3 (v128.const i32x4 0 0 0 0))
        (local.set $end16 (i32.add (local.get $pp) (i32.shl (i32.and (local.get $dim) (i32.const -16)) (i32.const 2))))
        (local.set $end (i32.add (local.get $pp) (i32.shl (local.get $dim) (i32.const 2))))
        (block $e16
          (loop $l16
            (br_if $e16 (i32.ge_u (local.get $pp) (local.get $end16)))
            (local.set $d (f32x4.sub (v128.load (local.get $qp)) (v128.load (local.get $pp))))
            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $d) (local.get $d))))
            (local.set $d (f32x4.sub (v128.load offset=16 (local.get $qp)) (v128.load offset=16 (local.get $pp))))
            (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $d) (local.get $d))))
            (local.set $d (f32x4.sub (v128.load offset=32 (local.get $qp)) (v128.load offset=32 (local.get $pp))))
            (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $d) (local.get $d))))
            (local.set $d (f32x4.sub (v128.load offset=48 (local.get $qp)) (v128.load offset=48 (local.get $pp))))
            (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $d) (local.get $d))))
            (local.set $qp (i32.add (local.get $qp) (i32.const 64)))
            (local.set $pp (i32.add (local.get $pp) (i32.const 64)))
            (br $l16)))
        (local.set $d (f32x4.add (f32x4.add (local.get $a0) (local.get $a1)) (f32x4.add (local.get $a2) (local.get $a3))))
        (local.set $s (f32.add
          (f32.add (f32x4.extract_lane 0 (local.get $d)) (f32x4.extract_lane 1 (local.get $d)))
          (f32.add (f32x4.extract_lane 2 (local.get $d)) (f32x4.extract_lane 3 (local.get $d)))))
        (block $e1
          (loop $l1
            (br_if $e1 (i32.ge_u (local.get $pp) (local.get $end)))
            (local.set $t (f32.sub (f32.load (local.get $qp)) (f32.load (local.get $pp))))
            (local.set $s (f32.add (local.get $s) (f32.mul (local.get $t) (local.get $t))))
            (local.set $qp (i32.add (local.get $qp) (i32.const 4)))
            (local.set $pp (i32.add (local.get $pp) (i32.const 4)))
            (br $l1)))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))) (local.get $s))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $each))))

  ;; l2_rows_lt over rows of dim unsigned bytes (lossless storage of 0..255 integer data, e.g.
  ;; SIFT): the same f32 arithmetic on the widened values, so the distances equal those of the
  ;; f32 kernel on the same numbers; a row is a quarter of the bytes to read.
  (func (export "l2_rows_u8_lt") (param $q i32) (param $base i32) (param $count i32) (param $stride i32) (param $dim i32)
    (param $thr f32) (param $outIdx i32) (param $outD i32) (result i32)
    (local $r i32) (local $n i32) (local $chk i32) (local $qp i32) (local $pp i32) (local $end16 i32) (local $end i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $d v128) (local $x v128) (local $h v128) (local $s f32) (local $t f32)
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $r) (local.get $count)))
        (block $skip
          (local.set $qp (local.get $q))
          (local.set $pp (local.get $base))
          (local.set $a0 (v128.const i32x4 0 0 0 0))
          (local.set $a1 (v128.const i32x4 0 0 0 0))
          (local.set $a2 (v128.const i32x4 0 0 0 0))
          (local.set $a3 (v128.const i32x4 0 0 0 0))
          (local.set $end16 (i32.add (local.get $pp) (i32.and (local.get $dim) (i32.const -16))))
          (local.set $end (i32.add (local.get $pp) (local.get $dim)))
          (local.set $chk (i32.add (local.get $pp) (i32.const 64)))
          (block $e16
            (loop $l16
              (br_if $e16 (i32.ge_u (local.get $pp) (local.get $end16)))
              (local.set $x (v128.load (local.get $pp)))
              (local.set $h (i16x8.extend_low_i8x16_u (local.get $x)))
              (local.set $d (f32x4.sub (v128.load (local.get $qp)) (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_u (local.get $h)))))
              (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $d) (local.get $d))))
              (local.set $d (f32x4.sub (v128.load offset=16 (local.get $qp)) (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_u (local.get $h)))))
              (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $d) (local.get $d))))
              (local.set $h (i16x8.extend_high_i8x16_u (local.get $x)))
              (local.set $d (f32x4.sub (v128.load offset=32 (local.get $qp)) (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_u (local.get $h)))))
              (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $d) (local.get $d))))
              (local.set $d (f32x4.sub (v128.load offset=48 (local.get $qp)) (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_u (local.get $h)))))
              (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $d) (local.get $d))))
              (local.set $qp (i32.add (local.get $qp) (i32.const 64)))
              (local.set $pp (i32.add (local.get $pp) (i32.const 16)))
              (if (i32.ge_u (local.get $pp) (local.get $chk))
                (then
                  (local.set $chk (i32.add (local.get $chk) (i32.const 64)))
                  (local.set $d (f32x4.add (f32x4.add (local.get $a0) (local.get $a1)) (f32x4.add (local.get $a2) (local.get $a3))))
                  (br_if $skip (f32.ge
                    (f32.add (f32.add (f32x4.extract_lane 0 (local.get $d)) (f32x4.extract_lane 1 (local.get $d)))
                             (f32.add (f32x4.extract_lane 2 (local.get $d)) (f32x4.extract_lane 3 (local.get $d))))
                    (local.get $thr)))))
              (br $l16)))
          (local.set $d (f32x4.add (f32x4.add (local.get $a0) (local.get $a1)) (f32x4.add (local.get $a2) (local.get $a3))))
          (local.set $s (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $d)) (f32x4.extract_lane 1 (local.get $d)))
            (f32.add (f32x4.extract_lane 2 (local.get $d)) (f32x4.extract_lane 3 (local.get $d)))))
          (block $e1
            (loop $l1
              (br_if $e1 (i32.ge_u (local.get $pp) (local.get $end)))
              (local.set $t (f32.sub (f32.load (local.get $qp)) (f32.convert_i32_u (i32.load8_u (local.get $pp)))))
              (local.set $s (f32.add (local.get $s) (f32.mul (local.get $t) (local.get $t))))
              (local.set $qp (i32.add (local.get $qp) (i32.const 4)))
              (local.set $pp (i32.add (local.get $pp) (i32.const 1)))
              (br $l1)))
          (br_if $skip (i32.eqz (f32.lt (local.get $s) (local.get $thr))))
          (i32.store (i32.add (local.get $outIdx) (i32.shl (local.get $n) (i32.const 2))) (local.get $r))
          (f32.store (i32.add (local.get $outD) (i32.shl (local.get $n) (i32.const 2))) (local.get $s))
          (local.set $n (i32.add (local.get $n) (i32.const 1))))
        (local.set $base (i32.add (local.get $base) (local.get $stride)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows)))
    (local.get $n))

  ;; dot_rows_gt over rows of dim unsigned bytes.
  (func (export "dot_rows_u8_gt") (param $q i32) (param $base i32) (param $count i32) (param $stride i32) (param $dim i32)
    (param $thr f32) (param $outIdx i32) (param $outD i32) (result i32)
    (local $r i32) (local $n i32) (local $chk i32) (local $qp i32) (local $pp i32) (local $end16 i32) (local $end i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $d v128) (local $x v128) (local $h v128) (local $s f32) (local $t f32)
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $r) (local.get $count)))
        (block $skip
          (local.set $qp (local.get $q))
          (local.set $pp (local.get $base))
          (local.set $a0 (v128.const i32x4 0 0 0 0))
          (local.set $a1 (v128.const i32x4 0 0 0 0))
          (local.set $a2 (v128.const i32x4 0 0 0 0))
          (local.set $a3 (v128.const i32x4 0 0 0 0))
          (local.set $end16 (i32.add (local.get $pp) (i32.and (local.get $dim) (i32.const -16))))
          (local.set $end (i32.add (local.get $pp) (local.get $dim)))
          (block $e16
            (loop $l16
              (br_if $e16 (i32.ge_u (local.get $pp) (local.get $end16)))
              (local.set $x (v128.load (local.get $pp)))
              (local.set $h (i16x8.extend_low_i8x16_u (local.get $x)))
              (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load (local.get $qp)) (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_u (local.get $h))))))
              (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (v128.load offset=16 (local.get $qp)) (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_u (local.get $h))))))
              (local.set $h (i16x8.extend_high_i8x16_u (local.get $x)))
              (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (v128.load offset=32 (local.get $qp)) (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_u (local.get $h))))))
              (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (v128.load offset=48 (local.get $qp)) (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_u (local.get $h))))))
              (local.set $qp (i32.add (local.get $qp) (i32.const 64)))
              (local.set $pp (i32.add (local.get $pp) (i32.const 16)))
              (br $l16)))
          (local.set $d (f32x4.add (f32x4.add (local.get $a0) (local.get $a1)) (f32x4.add (local.get $a2) (local.get $a3))))
          (local.set $s (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $d)) (f32x4.extract_lane 1 (local.get $d)))
            (f32.add (f32x4.extract_lane 2 (local.get $d)) (f32x4.extract_lane 3 (local.get $d)))))
          (block $e1
            (loop $l1
              (br_if $e1 (i32.ge_u (local.get $pp) (local.get $end)))
              (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $qp)) (f32.convert_i32_u (i32.load8_u (local.get $pp))))))
              (local.set $qp (i32.add (local.get $qp) (i32.const 4)))
              (local.set $pp (i32.add (local.get $pp) (i32.const 1)))
              (br $l1)))
          (br_if $skip (i32.eqz (f32.gt (local.get $s) (local.get $thr))))
          (i32.store (i32.add (local.get $outIdx) (i32.shl (local.get $n) (i32.const 2))) (local.get $r))
          (f32.store (i32.add (local.get $outD) (i32.shl (local.get $n) (i32.const 2))) (local.get $s))
          (local.set $n (i32.add (local.get $n) (i32.const 1))))
        (local.set $base (i32.add (local.get $base) (local.get $stride)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows)))
    (local.get $n))

  ;; l2_rows_u8_lt for a query that is itself 0..255 integers, given as i16 (dim x 2 bytes at q):
  ;; exact integer arithmetic (i32x4.dot_i16x8_s on the differences), ~11 ns per 128-d row
  ;; instead of ~27 ns for the widening f32 path. Sums stay exact in i32 for dim < 33000 and are
  ;; returned as f32 (exact below 2^24, i.e. dim <= 258).
  (func (export "l2_rows_u8i_lt") (param $q i32) (param $base i32) (param $count i32) (param $stride i32) (param $dim i32)
    (param $thr f32) (param $outIdx i32) (param $outD i32) (result i32)
    (local $r i32) (local $n i32) (local $chk i32) (local $qp i32) (local $pp i32) (local $end16 i32) (local $end i32)
    (local $x v128) (local $d v128) (local $a0 v128) (local $a1 v128) (local $s i32) (local $t i32) (local $f f32)
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $r) (local.get $count)))
        (block $skip
          (local.set $a0 (v128.const i32x4 0 0 0 0))
          (local.set $a1 (v128.const i32x4 0 0 0 0))
          (local.set $qp (local.get $q))
          (local.set $pp (local.get $base))
          (local.set $end16 (i32.add (local.get $pp) (i32.and (local.get $dim) (i32.const -16))))
          (local.set $end (i32.add (local.get $pp) (local.get $dim)))
          (local.set $chk (i32.add (local.get $pp) (i32.const 64)))
          (block $e16
            (loop $l16
              (br_if $e16 (i32.ge_u (local.get $pp) (local.get $end16)))
              (local.set $x (v128.load (local.get $pp)))
              (local.set $d (i16x8.sub (v128.load (local.get $qp)) (i16x8.extend_low_i8x16_u (local.get $x))))
              (local.set $a0 (i32x4.add (local.get $a0) (i32x4.dot_i16x8_s (local.get $d) (local.get $d))))
              (local.set $d (i16x8.sub (v128.load offset=16 (local.get $qp)) (i16x8.extend_high_i8x16_u (local.get $x))))
              (local.set $a1 (i32x4.add (local.get $a1) (i32x4.dot_i16x8_s (local.get $d) (local.get $d))))
              (local.set $qp (i32.add (local.get $qp) (i32.const 32)))
              (local.set $pp (i32.add (local.get $pp) (i32.const 16)))
              (if (i32.ge_u (local.get $pp) (local.get $chk))
                (then
                  (local.set $chk (i32.add (local.get $chk) (i32.const 64)))
                  (local.set $d (i32x4.add (local.get $a0) (local.get $a1)))
                  (br_if $skip (f32.ge
                    (f32.convert_i32_s (i32.add
                      (i32.add (i32x4.extract_lane 0 (local.get $d)) (i32x4.extract_lane 1 (local.get $d)))
                      (i32.add (i32x4.extract_lane 2 (local.get $d)) (i32x4.extract_lane 3 (local.get $d)))))
                    (local.get $thr)))))
              (br $l16)))
          (local.set $d (i32x4.add (local.get $a0) (local.get $a1)))
          (local.set $s (i32.add
            (i32.add (i32x4.extract_lane 0 (local.get $d)) (i32x4.extract_lane 1 (local.get $d)))
            (i32.add (i32x4.extract_lane 2 (local.get $d)) (i32x4.extract_lane 3 (local.get $d)))))
          (block $e1
            (loop $l1
              (br_if $e1 (i32.ge_u (local.get $pp) (local.get $end)))
              (local.set $t (i32.sub (i32.load16_s (local.get $qp)) (i32.load8_u (local.get $pp))))
              (local.set $s (i32.add (local.get $s) (i32.mul (local.get $t) (local.get $t))))
              (local.set $qp (i32.add (local.get $qp) (i32.const 2)))
              (local.set $pp (i32.add (local.get $pp) (i32.const 1)))
              (br $l1)))
          (local.set $f (f32.convert_i32_s (local.get $s)))
          (br_if $skip (i32.eqz (f32.lt (local.get $f) (local.get $thr))))
          (i32.store (i32.add (local.get $outIdx) (i32.shl (local.get $n) (i32.const 2))) (local.get $r))
          (f32.store (i32.add (local.get $outD) (i32.shl (local.get $n) (i32.const 2))) (local.get $f))
          (local.set $n (i32.add (local.get $n) (i32.const 1))))
        (local.set $base (i32.add (local.get $base) (local.get $stride)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows)))
    (local.get $n))

  ;; dot_rows_u8_gt for an i16 query of 0..255 integers (exact integer dot products).
  (func (export "dot_rows_u8i_gt") (param $q i32) (param $base i32) (param $count i32) (param $stride i32) (param $dim i32)
    (param $thr f32) (param $outIdx i32) (param $outD i32) (result i32)
    (local $r i32) (local $n i32) (local $chk i32) (local $qp i32) (local $pp i32) (local $end16 i32) (local $end i32)
    (local $x v128) (local $d v128) (local $a0 v128) (local $a1 v128) (local $s i32) (local $t i32) (local $f f32)
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $r) (local.get $count)))
        (block $skip
          (local.set $a0 (v128.const i32x4 0 0 0 0))
          (local.set $a1 (v128.const i32x4 0 0 0 0))
          (local.set $qp (local.get $q))
          (local.set $pp (local.get $base))
          (local.set $end16 (i32.add (local.get $pp) (i32.and (local.get $dim) (i32.const -16))))
          (local.set $end (i32.add (local.get $pp) (local.get $dim)))
          (local.set $chk (i32.add (local.get $pp) (i32.const 64)))
          (block $e16
            (loop $l16
              (br_if $e16 (i32.ge_u (local.get $pp) (local.get $end16)))
              (local.set $x (v128.load (local.get $pp)))
              (local.set $a0 (i32x4.add (local.get $a0) (i32x4.dot_i16x8_s (v128.load (local.get $qp)) (i16x8.extend_low_i8x16_u (local.get $x)))))
              (local.set $a1 (i32x4.add (local.get $a1) (i32x4.dot_i16x8_s (v128.load offset=16 (local.get $qp)) (i16x8.extend_high_i8x16_u (local.get $x)))))
              (local.set $qp (i32.add (local.get $qp) (i32.const 32)))
              (local.set $pp (i32.add (local.get $pp) (i32.const 16)))
              (br $l16)))
          (local.set $d (i32x4.add (local.get $a0) (local.get $a1)))
          (local.set $s (i32.add
            (i32.add (i32x4.extract_lane 0 (local.get $d)) (i32x4.extract_lane 1 (local.get $d)))
            (i32.add (i32x4.extract_lane 2 (local.get $d)) (i32x4.extract_lane 3 (local.get $d)))))
          (block $e1
            (loop $l1
              (br_if $e1 (i32.ge_u (local.get $pp) (local.get $end)))
              (local.set $s (i32.add (local.get $s) (i32.mul (i32.load16_s (local.get $qp)) (i32.load8_u (local.get $pp)))))
              (local.set $qp (i32.add (local.get $qp) (i32.const 2)))
              (local.set $pp (i32.add (local.get $pp) (i32.const 1)))
              (br $l1)))
          (local.set $f (f32.convert_i32_s (local.get $s)))
          (br_if $skip (i32.eqz (f32.gt (local.get $f) (local.get $thr))))
          (i32.store (i32.add (local.get $outIdx) (i32.shl (local.get $n) (i32.const 2))) (local.get $r))
          (f32.store (i32.add (local.get $outD) (i32.shl (local.get $n) (i32.const 2))) (local.get $f))
          (local.set $n (i32.add (local.get $n) (i32.const 1))))
        (local.set $base (i32.add (local.get $base) (local.get $stride)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows)))
    (local.get $n))

  ;; Flat centroid search: the k rows nearest to q (squared L2) as ascending (row, distance)
  ;; lists at outIdx / outD; returns min(k, count). The k-th distance so far is the early-abandon
  ;; cut-off, so most rows stop half-way and the selection never leaves WebAssembly.
  (func (export "topk_l2") (param $q i32) (param $base i32) (param $count i32) (param $stride i32) (param $dim i32)
    (param $k i32) (param $outIdx i32) (param $outD i32) (result i32)
    (local $thr f32)
    (local $r i32) (local $n i32) (local $chk i32) (local $qp i32) (local $pp i32) (local $end16 i32) (local $end i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $d v128) (local $s f32) (local $t f32)
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $r) (local.get $count)))
        (local.set $thr (if (result f32) (i32.lt_u (local.get $n) (local.get $k))
          (then (f32.const inf))
          (else (f32.load (i32.add (local.get $outD) (i32.shl (i32.sub (local.get $k) (i32.const 1)) (i32.const 2)))))))
        (block $skip
          (local.set $qp (local.get $q))
          (local.set $pp (local.get $base))
          (local.set $a0 (v128.const i32x4 0 0 0 0))
          (local.set $a1 (v128.const i32x4 0 0 0 0))
          (local.set $a2 (v128.const i32x4 0 0 0 0))
          (local.set $a3 (v128.const i32x4 0 0 0 0))
          (local.set $end16 (i32.add (local.get $pp) (i32.shl (i32.and (local.get $dim) (i32.const -16)) (i32.const 2))))
          (local.set $end (i32.add (local.get $pp) (i32.shl (local.get $dim) (i32.const 2))))
          (local.set $chk (i32.add (local.get $pp) (i32.const 256)))
          (block $e16
            (loop $l16
              (br_if $e16 (i32.ge_u (local.get $pp) (local.get $end16)))
              (local.set $d (f32x4.sub (v128.load (local.get $qp)) (v128.load (local.get $pp))))
              (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $d) (local.get $d))))
              (local.set $d (f32x4.sub (v128.load offset=16 (local.get $qp)) (v128.load offset=16 (local.get $pp))))
              (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $d) (local.get $d))))
              (local.set $d (f32x4.sub (v128.load offset=32 (local.get $qp)) (v128.load offset=32 (local.get $pp))))
              (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $d) (local.get $d))))
              (local.set $d (f32x4.sub (v128.load offset=48 (local.get $qp)) (v128.load offset=48 (local.get $pp))))
              (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $d) (local.get $d))))
              (local.set $qp (i32.add (local.get $qp) (i32.const 64)))
              (local.set $pp (i32.add (local.get $pp) (i32.const 64)))
              (if (i32.ge_u (local.get $pp) (local.get $chk))
                (then
                  (local.set $chk (i32.add (local.get $chk) (i32.const 256)))
                  (local.set $d (f32x4.add (f32x4.add (local.get $a0) (local.get $a1)) (f32x4.add (local.get $a2) (local.get $a3))))
                  (br_if $skip (f32.ge
                    (f32.add (f32.add (f32x4.extract_lane 0 (local.get $d)) (f32x4.extract_lane 1 (local.get $d)))
                             (f32.add (f32x4.extract_lane 2 (local.get $d)) (f32x4.extract_lane 3 (local.get $d))))
                    (local.get $thr)))))
              (br $l16)))
          (local.set $d (f32x4.add (f32x4.add (local.get $a0) (local.get $a1)) (f32x4.add (local.get $a2) (local.get $a3))))
          (local.set $s (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $d)) (f32x4.extract_lane 1 (local.get $d)))
            (f32.add (f32x4.extract_lane 2 (local.get $d)) (f32x4.extract_lane 3 (local.get $d)))))
          (block $e1
            (loop $l1
              (br_if $e1 (i32.ge_u (local.get $pp) (local.get $end)))
              (local.set $t (f32.sub (f32.load (local.get $qp)) (f32.load (local.get $pp))))
              (local.set $s (f32.add (local.get $s) (f32.mul (local.get $t) (local.get $t))))
              (local.set $qp (i32.add (local.get $qp) (i32.const 4)))
              (local.set $pp (i32.add (local.get $pp) (i32.const 4)))
              (br $l1)))
          (br_if $skip (i32.eqz (f32.lt (local.get $s) (local.get $thr))))
          (local.set $n (call $insert (local.get $k) (local.get $n) (local.get $outIdx) (local.get $outD) (local.get $r) (local.get $s))))
        (local.set $base (i32.add (local.get $base) (local.get $stride)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows)))
    (local.get $n))

  ;; topk_l2 over rows of dim unsigned bytes with an i16 query of 0..255 integers (the u8 copy
  ;; of the centroids that routes integer queries of a u8 index).
  (func (export "topk_l2_u8i") (param $q i32) (param $base i32) (param $count i32) (param $stride i32) (param $dim i32)
    (param $k i32) (param $outIdx i32) (param $outD i32) (result i32)
    (local $thr f32)
    (local $r i32) (local $n i32) (local $chk i32) (local $qp i32) (local $pp i32) (local $end16 i32) (local $end i32)
    (local $x v128) (local $d v128) (local $a0 v128) (local $a1 v128) (local $s i32) (local $t i32) (local $f f32)
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $r) (local.get $count)))
        (local.set $thr (if (result f32) (i32.lt_u (local.get $n) (local.get $k))
          (then (f32.const inf))
          (else (f32.load (i32.add (local.get $outD) (i32.shl (i32.sub (local.get $k) (i32.const 1)) (i32.const 2)))))))
        (block $skip
          (local.set $a0 (v128.const i32x4 0 0 0 0))
          (local.set $a1 (v128.const i32x4 0 0 0 0))
          (local.set $qp (local.get $q))
          (local.set $pp (local.get $base))
          (local.set $end16 (i32.add (local.get $pp) (i32.and (local.get $dim) (i32.const -16))))
          (local.set $end (i32.add (local.get $pp) (local.get $dim)))
          (local.set $chk (i32.add (local.get $pp) (i32.const 64)))
          (block $e16
            (loop $l16
              (br_if $e16 (i32.ge_u (local.get $pp) (local.get $end16)))
              (local.set $x (v128.load (local.get $pp)))
              (local.set $d (i16x8.sub (v128.load (local.get $qp)) (i16x8.extend_low_i8x16_u (local.get $x))))
              (local.set $a0 (i32x4.add (local.get $a0) (i32x4.dot_i16x8_s (local.get $d) (local.get $d))))
              (local.set $d (i16x8.sub (v128.load offset=16 (local.get $qp)) (i16x8.extend_high_i8x16_u (local.get $x))))
              (local.set $a1 (i32x4.add (local.get $a1) (i32x4.dot_i16x8_s (local.get $d) (local.get $d))))
              (local.set $qp (i32.add (local.get $qp) (i32.const 32)))
              (local.set $pp (i32.add (local.get $pp) (i32.const 16)))
              (if (i32.ge_u (local.get $pp) (local.get $chk))
                (then
                  (local.set $chk (i32.add (local.get $chk) (i32.const 64)))
                  (local.set $d (i32x4.add (local.get $a0) (local.get $a1)))
                  (br_if $skip (f32.ge
                    (f32.convert_i32_s (i32.add
                      (i32.add (i32x4.extract_lane 0 (local.get $d)) (i32x4.extract_lane 1 (local.get $d)))
                      (i32.add (i32x4.extract_lane 2 (local.get $d)) (i32x4.extract_lane 3 (local.get $d)))))
                    (local.get $thr)))))
              (br $l16)))
          (local.set $d (i32x4.add (local.get $a0) (local.get $a1)))
          (local.set $s (i32.add
            (i32.add (i32x4.extract_lane 0 (local.get $d)) (i32x4.extract_lane 1 (local.get $d)))
            (i32.add (i32x4.extract_lane 2 (local.get $d)) (i32x4.extract_lane 3 (local.get $d)))))
          (block $e1
            (loop $l1
              (br_if $e1 (i32.ge_u (local.get $pp) (local.get $end)))
              (local.set $t (i32.sub (i32.load16_s (local.get $qp)) (i32.load8_u (local.get $pp))))
              (local.set $s (i32.add (local.get $s) (i32.mul (local.get $t) (local.get $t))))
              (local.set $qp (i32.add (local.get $qp) (i32.const 2)))
              (local.set $pp (i32.add (local.get $pp) (i32.const 1)))
              (br $l1)))
          (local.set $f (f32.convert_i32_s (local.get $s)))
          (br_if $skip (i32.eqz (f32.lt (local.get $f) (local.get $thr))))
          (local.set $n (call $insert (local.get $k) (local.get $n) (local.get $outIdx) (local.get $outD) (local.get $r) (local.get $f))))
        (local.set $base (i32.add (local.get $base) (local.get $stride)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows)))
    (local.get $n))

  ;; Inserts (idx, d) into the ascending top-k lists at outIdx / outD holding n entries (the
  ;; caller checked d < the k-th when full); returns the new count.
  (func $insert (param $k i32) (param $n i32) (param $outIdx i32) (param $outD i32) (param $idx i32) (param $d f32) (result i32)
    (local $j i32) (local $at i32)
    (local.set $j (select (local.get $n) (i32.sub (local.get $k) (i32.const 1)) (i32.lt_u (local.get $n) (local.get $k))))
    (block $placed
      (loop $shift
        (br_if $placed (i32.eqz (local.get $j)))
        (local.set $at (i32.shl (i32.sub (local.get $j) (i32.const 1)) (i32.const 2)))
        (br_if $placed (i32.eqz (f32.gt (f32.load (i32.add (local.get $outD) (local.get $at))) (local.get $d))))
        (f32.store offset=4 (i32.add (local.get $outD) (local.get $at)) (f32.load (i32.add (local.get $outD) (local.get $at))))
        (i32.store offset=4 (i32.add (local.get $outIdx) (local.get $at)) (i32.load (i32.add (local.get $outIdx) (local.get $at))))
        (local.set $j (i32.sub (local.get $j) (i32.const 1)))
        (br $shift)))
    (f32.store (i32.add (local.get $outD) (i32.shl (local.get $j) (i32.const 2))) (local.get $d))
    (i32.store (i32.add (local.get $outIdx) (i32.shl (local.get $j) (i32.const 2))) (local.get $idx))
    (select (i32.add (local.get $n) (i32.const 1)) (local.get $n) (i32.lt_u (local.get $n) (local.get $k))))

  ;; ---- HNSW layer-0 beam search (CentroidGraph) -------------------------------------------
  ;; The graph walk in JS spent most of its time in heap and visited bookkeeping around ~170
  ;; distance calls per query (18k centroids); here the whole layer-0 search runs in one call.

  ;; |q - p|^2 over dim floats, or +inf once a partial sum (every 64 floats) reaches cut.
  (func $l2cut (param $qp i32) (param $pp i32) (param $dim i32) (param $cut f32) (result f32)
    (local $end16 i32) (local $end i32) (local $chk i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $d v128) (local $s f32) (local $t f32)
    (local.set $end16 (i32.add (local.get $pp) (i32.shl (i32.and (local.get $dim) (i32.const -16)) (i32.const 2))))
    (local.set $end (i32.add (local.get $pp) (i32.shl (local.get $dim) (i32.const 2))))
    (local.set $chk (i32.add (local.get $pp) (i32.const 256)))
    (block $e16
      (loop $l16
        (br_if $e16 (i32.ge_u (local.get $pp) (local.get $end16)))
        (local.set $d (f32x4.sub (v128.load (local.get $qp)) (v128.load (local.get $pp))))
        (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $d) (local.get $d))))
        (local.set $d (f32x4.sub (v128.load offset=16 (local.get $qp)) (v128.load offset=16 (local.get $pp))))
        (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $d) (local.get $d))))
        (local.set $d (f32x4.sub (v128.load offset=32 (local.get $qp)) (v128.load offset=32 (local.get $pp))))
        (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $d) (local.get $d))))
        (local.set $d (f32x4.sub (v128.load offset=48 (local.get $qp)) (v128.load offset=48 (local.get $pp))))
        (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $d) (local.get $d))))
        (local.set $qp (i32.add (local.get $qp) (i32.const 64)))
        (local.set $pp (i32.add (local.get $pp) (i32.const 64)))
        (if (i32.ge_u (local.get $pp) (local.get $chk))
          (then
            (local.set $chk (i32.add (local.get $chk) (i32.const 256)))
            (local.set $d (f32x4.add (f32x4.add (local.get $a0) (local.get $a1)) (f32x4.add (local.get $a2) (local.get $a3))))
            (if (f32.ge
                  (f32.add (f32.add (f32x4.extract_lane 0 (local.get $d)) (f32x4.extract_lane 1 (local.get $d)))
                           (f32.add (f32x4.extract_lane 2 (local.get $d)) (f32x4.extract_lane 3 (local.get $d))))
                  (local.get $cut))
              (then (return (f32.const inf))))))
        (br $l16)))
    (local.set $d (f32x4.add (f32x4.add (local.get $a0) (local.get $a1)) (f32x4.add (local.get $a2) (local.get $a3))))
    (local.set $s (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $d)) (f32x4.extract_lane 1 (local.get $d)))
      (f32.add (f32x4.extract_lane 2 (local.get $d)) (f32x4.extract_lane 3 (local.get $d)))))
    (block $e1
      (loop $l1
        (br_if $e1 (i32.ge_u (local.get $pp) (local.get $end)))
        (local.set $t (f32.sub (f32.load (local.get $qp)) (f32.load (local.get $pp))))
        (local.set $s (f32.add (local.get $s) (f32.mul (local.get $t) (local.get $t))))
        (local.set $qp (i32.add (local.get $qp) (i32.const 4)))
        (local.set $pp (i32.add (local.get $pp) (i32.const 4)))
        (br $l1)))
    (local.get $s))

  ;; Binary min-heap of (f32 distance at hd[i], u32 node at hn[i]): push returns the new size.
  (func $minh_push (param $hd i32) (param $hn i32) (param $size i32) (param $d f32) (param $n i32) (result i32)
    (local $i i32) (local $p i32)
    (local.set $i (local.get $size))
    (block $placed
      (loop $up
        (br_if $placed (i32.eqz (local.get $i)))
        (local.set $p (i32.shr_u (i32.sub (local.get $i) (i32.const 1)) (i32.const 1)))
        (br_if $placed (f32.le (f32.load (i32.add (local.get $hd) (i32.shl (local.get $p) (i32.const 2)))) (local.get $d)))
        (f32.store (i32.add (local.get $hd) (i32.shl (local.get $i) (i32.const 2))) (f32.load (i32.add (local.get $hd) (i32.shl (local.get $p) (i32.const 2)))))
        (i32.store (i32.add (local.get $hn) (i32.shl (local.get $i) (i32.const 2))) (i32.load (i32.add (local.get $hn) (i32.shl (local.get $p) (i32.const 2)))))
        (local.set $i (local.get $p))
        (br $up)))
    (f32.store (i32.add (local.get $hd) (i32.shl (local.get $i) (i32.const 2))) (local.get $d))
    (i32.store (i32.add (local.get $hn) (i32.shl (local.get $i) (i32.const 2))) (local.get $n))
    (i32.add (local.get $size) (i32.const 1)))

  (func $minh_pop (param $hd i32) (param $hn i32) (param $size i32) (result i32)
    (local $last i32) (local $i i32) (local $c i32) (local $d f32) (local $n i32)
    (local.set $last (i32.sub (local.get $size) (i32.const 1)))
    (if (i32.le_s (local.get $last) (i32.const 0)) (then (return (i32.const 0))))
    (local.set $d (f32.load (i32.add (local.get $hd) (i32.shl (local.get $last) (i32.const 2)))))
    (local.set $n (i32.load (i32.add (local.get $hn) (i32.shl (local.get $last) (i32.const 2)))))
    (block $placed
      (loop $down
        (local.set $c (i32.add (i32.shl (local.get $i) (i32.const 1)) (i32.const 1)))
        (br_if $placed (i32.ge_u (local.get $c) (local.get $last)))
        (if (i32.and
              (i32.lt_u (i32.add (local.get $c) (i32.const 1)) (local.get $last))
              (f32.lt (f32.load offset=4 (i32.add (local.get $hd) (i32.shl (local.get $c) (i32.const 2))))
                           (f32.load (i32.add (local.get $hd) (i32.shl (local.get $c) (i32.const 2))))))
          (then (local.set $c (i32.add (local.get $c) (i32.const 1)))))
        (br_if $placed (f32.ge (f32.load (i32.add (local.get $hd) (i32.shl (local.get $c) (i32.const 2)))) (local.get $d)))
        (f32.store (i32.add (local.get $hd) (i32.shl (local.get $i) (i32.const 2))) (f32.load (i32.add (local.get $hd) (i32.shl (local.get $c) (i32.const 2)))))
        (i32.store (i32.add (local.get $hn) (i32.shl (local.get $i) (i32.const 2))) (i32.load (i32.add (local.get $hn) (i32.shl (local.get $c) (i32.const 2)))))
        (local.set $i (local.get $c))
        (br $down)))
    (f32.store (i32.add (local.get $hd) (i32.shl (local.get $i) (i32.const 2))) (local.get $d))
    (i32.store (i32.add (local.get $hn) (i32.shl (local.get $i) (i32.const 2))) (local.get $n))
    (local.get $last))

  ;; Binary max-heap, same layout.
  (func $maxh_push (param $hd i32) (param $hn i32) (param $size i32) (param $d f32) (param $n i32) (result i32)
    (local $i i32) (local $p i32)
    (local.set $i (local.get $size))
    (block $placed
      (loop $up
        (br_if $placed (i32.eqz (local.get $i)))
        (local.set $p (i32.shr_u (i32.sub (local.get $i) (i32.const 1)) (i32.const 1)))
        (br_if $placed (f32.ge (f32.load (i32.add (local.get $hd) (i32.shl (local.get $p) (i32.const 2)))) (local.get $d)))
        (f32.store (i32.add (local.get $hd) (i32.shl (local.get $i) (i32.const 2))) (f32.load (i32.add (local.get $hd) (i32.shl (local.get $p) (i32.const 2)))))
        (i32.store (i32.add (local.get $hn) (i32.shl (local.get $i) (i32.const 2))) (i32.load (i32.add (local.get $hn) (i32.shl (local.get $p) (i32.const 2)))))
        (local.set $i (local.get $p))
        (br $up)))
    (f32.store (i32.add (local.get $hd) (i32.shl (local.get $i) (i32.const 2))) (local.get $d))
    (i32.store (i32.add (local.get $hn) (i32.shl (local.get $i) (i32.const 2))) (local.get $n))
    (i32.add (local.get $size) (i32.const 1)))

  (func $maxh_pop (param $hd i32) (param $hn i32) (param $size i32) (result i32)
    (local $last i32) (local $i i32) (local $c i32) (local $d f32) (local $n i32)
    (local.set $last (i32.sub (local.get $size) (i32.const 1)))
    (if (i32.le_s (local.get $last) (i32.const 0)) (then (return (i32.const 0))))
    (local.set $d (f32.load (i32.add (local.get $hd) (i32.shl (local.get $last) (i32.const 2)))))
    (local.set $n (i32.load (i32.add (local.get $hn) (i32.shl (local.get $last) (i32.const 2)))))
    (block $placed
      (loop $down
        (local.set $c (i32.add (i32.shl (local.get $i) (i32.const 1)) (i32.const 1)))
        (br_if $placed (i32.ge_u (local.get $c) (local.get $last)))
        (if (i32.and
              (i32.lt_u (i32.add (local.get $c) (i32.const 1)) (local.get $last))
              (f32.gt (f32.load offset=4 (i32.add (local.get $hd) (i32.shl (local.get $c) (i32.const 2))))
                           (f32.load (i32.add (local.get $hd) (i32.shl (local.get $c) (i32.const 2))))))
          (then (local.set $c (i32.add (local.get $c) (i32.const 1)))))
        (br_if $placed (f32.le (f32.load (i32.add (local.get $hd) (i32.shl (local.get $c) (i32.const 2)))) (local.get $d)))
        (f32.store (i32.add (local.get $hd) (i32.shl (local.get $i) (i32.const 2))) (f32.load (i32.add (local.get $hd) (i32.shl (local.get $c) (i32.const 2)))))
        (i32.store (i32.add (local.get $hn) (i32.shl (local.get $i) (i32.const 2))) (i32.load (i32.add (local.get $hn) (i32.shl (local.get $c) (i32.const 2)))))
        (local.set $i (local.get $c))
        (br $down)))
    (f32.store (i32.add (local.get $hd) (i32.shl (local.get $i) (i32.const 2))) (local.get $d))
    (i32.store (i32.add (local.get $hn) (i32.shl (local.get $i) (i32.const 2))) (local.get $n))
    (local.get $last))

  ;; Layer-0 beam search from entry ep (distance epD): node i has its degree at byte deg + i and
  ;; its links at links + i * m0 * 4, its vector at vecs + i * dim * 4; vis holds the visit
  ;; generation per node (gen marks "seen in this search"). Keeps the ef nearest in a max-heap
  ;; (rd / rn, ef + 1 slots) with candidates in a min-heap (cd / cn, one slot per node), stops
  ;; when the nearest candidate is farther than the ef-th result. A neighbour farther than the
  ;; ef-th result is abandoned half-way (it could not enter). Leaves the results ascending in
  ;; rd / rn and returns their count.
  (func (export "hnsw_l0") (param $q i32) (param $vecs i32) (param $dim i32) (param $links i32) (param $deg i32) (param $m0 i32)
    (param $vis i32) (param $gen i32) (param $ep i32) (param $epD f32) (param $ef i32)
    (param $cd i32) (param $cn i32) (param $rd i32) (param $rn i32) (result i32)
    (local $cs i32) (local $rs i32) (local $c i32) (local $i i32) (local $dg i32) (local $nb i32) (local $at i32)
    (local $d f32) (local $n i32) (local $rowBytes i32)
    (local.set $rowBytes (i32.shl (local.get $dim) (i32.const 2)))
    (i32.store (i32.add (local.get $vis) (i32.shl (local.get $ep) (i32.const 2))) (local.get $gen))
    (local.set $cs (call $minh_push (local.get $cd) (local.get $cn) (i32.const 0) (local.get $epD) (local.get $ep)))
    (local.set $rs (call $maxh_push (local.get $rd) (local.get $rn) (i32.const 0) (local.get $epD) (local.get $ep)))
    (block $done
      (loop $main
        (br_if $done (i32.eqz (local.get $cs)))
        (br_if $done (i32.and (i32.ge_u (local.get $rs) (local.get $ef))
                              (f32.gt (f32.load (local.get $cd)) (f32.load (local.get $rd)))))
        (local.set $c (i32.load (local.get $cn)))
        (local.set $cs (call $minh_pop (local.get $cd) (local.get $cn) (local.get $cs)))
        (local.set $dg (i32.load8_u (i32.add (local.get $deg) (local.get $c))))
        (local.set $at (i32.add (local.get $links) (i32.shl (i32.mul (local.get $c) (local.get $m0)) (i32.const 2))))
        (local.set $i (i32.const 0))
        (block $nbs
          (loop $each
            (br_if $nbs (i32.ge_u (local.get $i) (local.get $dg)))
            (local.set $nb (i32.load (i32.add (local.get $at) (i32.shl (local.get $i) (i32.const 2)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $each (i32.eq (i32.load (i32.add (local.get $vis) (i32.shl (local.get $nb) (i32.const 2)))) (local.get $gen)))
            (i32.store (i32.add (local.get $vis) (i32.shl (local.get $nb) (i32.const 2))) (local.get $gen))
            (local.set $d (call $l2cut (local.get $q) (i32.add (local.get $vecs) (i32.mul (local.get $nb) (local.get $rowBytes))) (local.get $dim)
              (select (f32.load (local.get $rd)) (f32.const inf) (i32.ge_u (local.get $rs) (local.get $ef)))))
            (if (i32.or (i32.lt_u (local.get $rs) (local.get $ef)) (f32.lt (local.get $d) (f32.load (local.get $rd))))
              (then
                (local.set $cs (call $minh_push (local.get $cd) (local.get $cn) (local.get $cs) (local.get $d) (local.get $nb)))
                (local.set $rs (call $maxh_push (local.get $rd) (local.get $rn) (local.get $rs) (local.get $d) (local.get $nb)))
                (if (i32.gt_u (local.get $rs) (local.get $ef))
                  (then (local.set $rs (call $maxh_pop (local.get $rd) (local.get $rn) (local.get $rs)))))))
            (br $each)))
        (br $main)))
    ;; Heap-sort the results in place: the max goes to the slot the heap just gave up.
    (local.set $n (local.get $rs))
    (block $sorted
      (loop $drain
        (br_if $sorted (i32.eqz (local.get $rs)))
        (local.set $d (f32.load (local.get $rd)))
        (local.set $nb (i32.load (local.get $rn)))
        (local.set $rs (call $maxh_pop (local.get $rd) (local.get $rn) (local.get $rs)))
        (f32.store (i32.add (local.get $rd) (i32.shl (local.get $rs) (i32.const 2))) (local.get $d))
        (i32.store (i32.add (local.get $rn) (i32.shl (local.get $rs) (i32.const 2))) (local.get $nb))
        (br $drain)))
    (local.get $n))

  ;; sums[assign[i]] += row_i for i < count (k-means centre sums, f32): rows contiguous at rows
  ;; (dim floats each), assign a u32 array, sums k x dim floats.
  (func (export "add_rows") (param $rows i32) (param $count i32) (param $dim i32) (param $assign i32) (param $sums i32)
    (local $i i32) (local $p i32) (local $s i32) (local $end4 i32) (local $end i32) (local $rowBytes i32)
    (local.set $rowBytes (i32.shl (local.get $dim) (i32.const 2)))
    (local.set $p (local.get $rows))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $s (i32.add (local.get $sums)
          (i32.mul (i32.load (i32.add (local.get $assign) (i32.shl (local.get $i) (i32.const 2)))) (local.get $rowBytes))))
        (local.set $end4 (i32.add (local.get $p) (i32.shl (i32.and (local.get $dim) (i32.const -4)) (i32.const 2))))
        (local.set $end (i32.add (local.get $p) (local.get $rowBytes)))
        (block $e4
          (loop $l4
            (br_if $e4 (i32.ge_u (local.get $p) (local.get $end4)))
            (v128.store (local.get $s) (f32x4.add (v128.load (local.get $s)) (v128.load (local.get $p))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (local.set $s (i32.add (local.get $s) (i32.const 16)))
            (br $l4)))
        (block $e1
          (loop $l1
            (br_if $e1 (i32.ge_u (local.get $p) (local.get $end)))
            (f32.store (local.get $s) (f32.add (f32.load (local.get $s)) (f32.load (local.get $p))))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (local.set $s (i32.add (local.get $s) (i32.const 4)))
            (br $l1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each))))
)
