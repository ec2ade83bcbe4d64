;; SIMD distance kernels for the SPANN index (WebAssembly SIMD, f32x4).
;; Compiled into simd-kernels.ts (base64); regenerate with any wat2wasm, e.g.
;;   python -c "import wasmtime,base64,sys;print(base64.b64encode(wasmtime.wat2wasm(open(sys.argv[1]).read())).decode())" simd-kernels.wat
;; All pointers are byte offsets into the exported memory; vectors need no alignment.
(module
  (memory (export "mem") 1)

  ;; out[r] = |q - row_r|^2 for r < count, row_r at base + r * stride.
  (func (export "l2_rows") (param $q i32) (param $base i32) (param $count i32) (param $stride i32) (param $dim i32) (param $out i32)
    (local $r i32) (local $p i32) (local $qp i32) (local $pp i32) (local $end8 i32) (local $end i32)
    (local $acc v128) (local $acc2 v128) (local $d v128) (local $s f32) (local $t f32)
    (local.set $p (local.get $base))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $r) (local.get $count)))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $acc2 (v128.const i32x4 0 0 0 0))
        (local.set $qp (local.get $q))
        (local.set $pp (local.get $p))
        (local.set $end8 (i32.add (local.get $p) (i32.shl (i32.and (local.get $dim) (i32.const -8)) (i32.const 2))))
        (local.set $end (i32.add (local.get $p) (i32.shl (local.get $dim) (i32.const 2))))
        (block $e8
          (loop $l8
            (br_if $e8 (i32.ge_u (local.get $pp) (local.get $end8)))
            (local.set $d (f32x4.sub (v128.load (local.get $qp)) (v128.load (local.get $pp))))
            (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (local.get $d) (local.get $d))))
            (local.set $d (f32x4.sub (v128.load offset=16 (local.get $qp)) (v128.load offset=16 (local.get $pp))))
            (local.set $acc2 (f32x4.add (local.get $acc2) (f32x4.mul (local.get $d) (local.get $d))))
            (local.set $qp (i32.add (local.get $qp) (i32.const 32)))
            (local.set $pp (i32.add (local.get $pp) (i32.const 32)))
            (br $l8)))
        (local.set $acc (f32x4.add (local.get $acc) (local.get $acc2)))
        (local.set $s (f32.add
          (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
          (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))
        (block $e1
          (loop $l1
            (br_if $e1 (i32.ge_u (local.get $pp) (local.get $end)))
            (local.set $t (f32.sub (f32.load (local.get $qp)) (f32.load (local.get $pp))))
            (local.set $s (f32.add (local.get $s) (f32.mul (local.get $t) (local.get $t))))
            (local.set $qp (i32.add (local.get $qp) (i32.const 4)))
            (local.set $pp (i32.add (local.get $pp) (i32.const 4)))
            (br $l1)))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2))) (local.get $s))
        (local.set $p (i32.add (local.get $p) (local.get $stride)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows))))

  ;; out[r] = q . row_r for r < count, row_r at base + r * stride.
  (func (export "dot_rows") (param $q i32) (param $base i32) (param $count i32) (param $stride i32) (param $dim i32) (param $out i32)
    (local $r i32) (local $p i32) (local $qp i32) (local $pp i32) (local $end8 i32) (local $end i32)
    (local $acc v128) (local $acc2 v128) (local $s f32)
    (local.set $p (local.get $base))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $r) (local.get $count)))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $acc2 (v128.const i32x4 0 0 0 0))
        (local.set $qp (local.get $q))
        (local.set $pp (local.get $p))
        (local.set $end8 (i32.add (local.get $p) (i32.shl (i32.and (local.get $dim) (i32.const -8)) (i32.const 2))))
        (local.set $end (i32.add (local.get $p) (i32.shl (local.get $dim) (i32.const 2))))
        (block $e8
          (loop $l8
            (br_if $e8 (i32.ge_u (local.get $pp) (local.get $end8)))
            (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load (local.get $qp)) (v128.load (local.get $pp)))))
            (local.set $acc2 (f32x4.add (local.get $acc2) (f32x4.mul (v128.load offset=16 (local.get $qp)) (v128.load offset=16 (local.get $pp)))))
            (local.set $qp (i32.add (local.get $qp) (i32.const 32)))
            (local.set $pp (i32.add (local.get $pp) (i32.const 32)))
            (br $l8)))
        (local.set $acc (f32x4.add (local.get $acc) (local.get $acc2)))
        (local.set $s (f32.add
          (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
          (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))
        (block $e1
          (loop $l1
            (br_if $e1 (i32.ge_u (local.get $pp) (local.get $end)))
            (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $qp)) (f32.load (local.get $pp)))))
            (local.set $qp (i32.add (local.get $qp) (i32.const 4)))
            (local.set $pp (i32.add (local.get $pp) (i32.const 4)))
            (br $l1)))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2))) (local.get $s))
        (local.set $p (i32.add (local.get $p) (local.get $stride)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows))))

  ;; out[j] = |q - v_ids[j]|^2 for j < n, v_i at vecs + i * dim * 4 (ids: u32 array).
  (func (export "l2_ids") (param $q i32) (param $vecs i32) (param $ids i32) (param $n i32) (param $dim i32) (param $out i32)
    (local $j i32) (local $rowBytes i32)
    (local.set $rowBytes (i32.shl (local.get $dim) (i32.const 2)))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $j) (local.get $n)))
        (call $l2_one
          (local.get $q)
          (i32.add (local.get $vecs) (i32.mul (i32.load (i32.add (local.get $ids) (i32.shl (local.get $j) (i32.const 2)))) (local.get $rowBytes)))
          (local.get $dim)
          (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $each))))

  (func $l2_one (param $q i32) (param $p i32) (param $dim i32) (param $out i32)
    (call $l2_rows_internal (local.get $q) (local.get $p) (local.get $dim) (local.get $out)))

  (func $l2_rows_internal (param $qp i32) (param $pp i32) (param $dim i32) (param $out i32)
    (local $end8 i32) (local $end i32) (local $acc v128) (local $acc2 v128) (local $d v128) (local $s f32) (local $t f32)
    (local.set $acc (v128.const i32x4 0 0 0 0))
    (local.set $acc2 (v128.const i32x4 0 0 0 0))
    (local.set $end8 (i32.add (local.get $pp) (i32.shl (i32.and (local.get $dim) (i32.const -8)) (i32.const 2))))
    (local.set $end (i32.add (local.get $pp) (i32.shl (local.get $dim) (i32.const 2))))
    (block $e8
      (loop $l8
        (br_if $e8 (i32.ge_u (local.get $pp) (local.get $end8)))
        (local.set $d (f32x4.sub (v128.load (local.get $qp)) (v128.load (local.get $pp))))
        (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (local.get $d) (local.get $d))))
        (local.set $d (f32x4.sub (v128.load offset=16 (local.get $qp)) (v128.load offset=16 (local.get $pp))))
        (local.set $acc2 (f32x4.add (local.get $acc2) (f32x4.mul (local.get $d) (local.get $d))))
        (local.set $qp (i32.add (local.get $qp) (i32.const 32)))
        (local.set $pp (i32.add (local.get $pp) (i32.const 32)))
        (br $l8)))
    (local.set $acc (f32x4.add (local.get $acc) (local.get $acc2)))
    (local.set $s (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
      (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))
    (block $e1
      (loop $l1
        (br_if $e1 (i32.ge_u (local.get $pp) (local.get $end)))
        (local.set $t (f32.sub (f32.load (local.get $qp)) (f32.load (local.get $pp))))
        (local.set $s (f32.add (local.get $s) (f32.mul (local.get $t) (local.get $t))))
        (local.set $qp (i32.add (local.get $qp) (i32.const 4)))
        (local.set $pp (i32.add (local.get $pp) (i32.const 4)))
        (br $l1)))
    (f32.store (local.get $out) (local.get $s)))

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
