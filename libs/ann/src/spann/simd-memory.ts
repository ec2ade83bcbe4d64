/**
 * WebAssembly SIMD distance kernels and the linear memory they work on (see simd-kernels.wat,
 * compiled below). One instance per index: the centroid vectors, the posting read buffer and
 * the query live in its memory so that a kernel call scores a whole posting list (or a node's
 * neighbours) without copies. f32x4 kernels are ~10x faster than scalar JS loops.
 *
 * Memory is handed out by a first-fit allocator (16-byte aligned, coalescing free list) and
 * grows in 64 KiB pages; it never shrinks. Growing detaches every typed-array view, so holders
 * re-derive views through f32()/u32()/bytes() after any alloc (check `buffer`).
 */
const KERNELS_WASM =
  'AGFzbQEAAAABXwlgBn9/f39/fwBgCH9/f39/fX9/AX9gCH9/f39/f39/AX9gBn9/f39/fQF/YAR/f399AX1gBX9/f31/AX9gA39/fwF/YA9/f39/f39/f399f39/f38Bf2AFf39/f38AAxQTAAABAQABAQEBAgIDBAUGBQYHCAUDAQABB7EBDgNtZW0CAAdsMl9yb3dzAAAIZG90X3Jvd3MAAQpsMl9yb3dzX2x0AAILZG90X3Jvd3NfZ3QAAwZsMl9pZHMABA1sMl9yb3dzX3U4X2x0AAUOZG90X3Jvd3NfdThfZ3QABg5sMl9yb3dzX3U4aV9sdAAHD2RvdF9yb3dzX3U4aV9ndAAIB3RvcGtfbDIACQt0b3BrX2wyX3U4aQAKB2huc3dfbDAAEQhhZGRfcm93cwASCuEyE5wDAwV/BXsCfQJAA0AgBiACTw0BIAAhByABIQj9DAAAAAAAAAAAAAAAAAAAAAAhC/0MAAAAAAAAAAAAAAAAAAAAACEM/QwAAAAAAAAAAAAAAAAAAAAAIQ39DAAAAAAAAAAAAAAAAAAAAAAhDiAIIARBcHFBAnRqIQkgCCAEQQJ0aiEKAkADQCAIIAlPDQEgB/0ABAAgCP0ABAD95QEhDyALIA8gD/3mAf3kASELIAf9AAQQIAj9AAQQ/eUBIQ8gDCAPIA/95gH95AEhDCAH/QAEICAI/QAEIP3lASEPIA0gDyAP/eYB/eQBIQ0gB/0ABDAgCP0ABDD95QEhDyAOIA8gD/3mAf3kASEOIAdBwABqIQcgCEHAAGohCAwACwsgCyAM/eQBIA0gDv3kAf3kASEPIA/9HwAgD/0fAZIgD/0fAiAP/R8DkpIhEAJAA0AgCCAKTw0BIAcqAgAgCCoCAJMhESAQIBEgEZSSIRAgB0EEaiEHIAhBBGohCAwACwsgBSAGQQJ0aiAQOAIAIAEgA2ohASAGQQFqIQYMAAsLC/ECAwV/BXsCfQJAA0AgBiACTw0BIAAhByABIQj9DAAAAAAAAAAAAAAAAAAAAAAhC/0MAAAAAAAAAAAAAAAAAAAAACEM/QwAAAAAAAAAAAAAAAAAAAAAIQ39DAAAAAAAAAAAAAAAAAAAAAAhDiAIIARBcHFBAnRqIQkgCCAEQQJ0aiEKAkADQCAIIAlPDQEgCyAH/QAEACAI/QAEAP3mAf3kASELIAwgB/0ABBAgCP0ABBD95gH95AEhDCANIAf9AAQgIAj9AAQg/eYB/eQBIQ0gDiAH/QAEMCAI/QAEMP3mAf3kASEOIAdBwABqIQcgCEHAAGohCAwACwsgCyAM/eQBIA0gDv3kAf3kASEPIA/9HwAgD/0fAZIgD/0fAiAP/R8DkpIhEAJAA0AgCCAKTw0BIBAgByoCACAIKgIAlJIhECAHQQRqIQcgCEEEaiEIDAALCyAFIAZBAnRqIBA4AgAgASADaiEBIAZBAWohBgwACwsLhAQDB38FewJ9AkADQCAIIAJPDQECQCAAIQsgASEM/QwAAAAAAAAAAAAAAAAAAAAAIQ/9DAAAAAAAAAAAAAAAAAAAAAAhEP0MAAAAAAAAAAAAAAAAAAAAACER/QwAAAAAAAAAAAAAAAAAAAAAIRIgDCAEQXBxQQJ0aiENIAwgBEECdGohDiAMQYACaiEKAkADQCAMIA1PDQEgC/0ABAAgDP0ABAD95QEhEyAPIBMgE/3mAf3kASEPIAv9AAQQIAz9AAQQ/eUBIRMgECATIBP95gH95AEhECAL/QAEICAM/QAEIP3lASETIBEgEyAT/eYB/eQBIREgC/0ABDAgDP0ABDD95QEhEyASIBMgE/3mAf3kASESIAtBwABqIQsgDEHAAGohDCAMIApPBEAgCkGAAmohCiAPIBD95AEgESAS/eQB/eQBIRMgE/0fACAT/R8BkiAT/R8CIBP9HwOSkiAFYA0DCwwACwsgDyAQ/eQBIBEgEv3kAf3kASETIBP9HwAgE/0fAZIgE/0fAiAT/R8DkpIhFAJAA0AgDCAOTw0BIAsqAgAgDCoCAJMhFSAUIBUgFZSSIRQgC0EEaiELIAxBBGohDAwACwsgFCAFXUUNACAGIAlBAnRqIAg2AgAgByAJQQJ0aiAUOAIAIAlBAWohCQsgASADaiEBIAhBAWohCAwACwsgCQuSAwMHfwV7An0CQANAIAggAk8NAQJAIAAhCyABIQz9DAAAAAAAAAAAAAAAAAAAAAAhD/0MAAAAAAAAAAAAAAAAAAAAACEQ/QwAAAAAAAAAAAAAAAAAAAAAIRH9DAAAAAAAAAAAAAAAAAAAAAAhEiAMIARBcHFBAnRqIQ0gDCAEQQJ0aiEOAkADQCAMIA1PDQEgDyAL/QAEACAM/QAEAP3mAf3kASEPIBAgC/0ABBAgDP0ABBD95gH95AEhECARIAv9AAQgIAz9AAQg/eYB/eQBIREgEiAL/QAEMCAM/QAEMP3mAf3kASESIAtBwABqIQsgDEHAAGohDAwACwsgDyAQ/eQBIBEgEv3kAf3kASETIBP9HwAgE/0fAZIgE/0fAiAT/R8DkpIhFAJAA0AgDCAOTw0BIBQgCyoCACAMKgIAlJIhFCALQQRqIQsgDEEEaiEMDAALCyAUIAVeRQ0AIAYgCUECdGogCDYCACAHIAlBAnRqIBQ4AgAgCUEBaiEJCyABIANqIQEgCEEBaiEIDAALCyAJC6sDAwZ/BXsCfSAEQQJ0IQcCQANAIAYgA08NASAAIQggASACIAZBAnRqKAIAIAdsaiEJ/QwAAAAAAAAAAAAAAAAAAAAAIQz9DAAAAAAAAAAAAAAAAAAAAAAhDf0MAAAAAAAAAAAAAAAAAAAAACEO/QwAAAAAAAAAAAAAAAAAAAAAIQ8gCSAEQXBxQQJ0aiEKIAkgBEECdGohCwJAA0AgCSAKTw0BIAj9AAQAIAn9AAQA/eUBIRAgDCAQIBD95gH95AEhDCAI/QAEECAJ/QAEEP3lASEQIA0gECAQ/eYB/eQBIQ0gCP0ABCAgCf0ABCD95QEhECAOIBAgEP3mAf3kASEOIAj9AAQwIAn9AAQw/eUBIRAgDyAQIBD95gH95AEhDyAIQcAAaiEIIAlBwABqIQkMAAsLIAwgDf3kASAOIA/95AH95AEhECAQ/R8AIBD9HwGSIBD9HwIgEP0fA5KSIRECQANAIAkgC08NASAIKgIAIAkqAgCTIRIgESASIBKUkiERIAhBBGohCCAJQQRqIQkMAAsLIAUgBkECdGogETgCACAGQQFqIQYMAAsLC5wEAwd/B3sCfQJAA0AgCCACTw0BAkAgACELIAEhDP0MAAAAAAAAAAAAAAAAAAAAACEP/QwAAAAAAAAAAAAAAAAAAAAAIRD9DAAAAAAAAAAAAAAAAAAAAAAhEf0MAAAAAAAAAAAAAAAAAAAAACESIAwgBEFwcWohDSAMIARqIQ4gDEHAAGohCgJAA0AgDCANTw0BIAz9AAQAIRQgFP2JASEVIAv9AAQAIBX9qQH9+gH95QEhEyAPIBMgE/3mAf3kASEPIAv9AAQQIBX9qgH9+gH95QEhEyAQIBMgE/3mAf3kASEQIBT9igEhFSAL/QAEICAV/akB/foB/eUBIRMgESATIBP95gH95AEhESAL/QAEMCAV/aoB/foB/eUBIRMgEiATIBP95gH95AEhEiALQcAAaiELIAxBEGohDCAMIApPBEAgCkHAAGohCiAPIBD95AEgESAS/eQB/eQBIRMgE/0fACAT/R8BkiAT/R8CIBP9HwOSkiAFYA0DCwwACwsgDyAQ/eQBIBEgEv3kAf3kASETIBP9HwAgE/0fAZIgE/0fAiAT/R8DkpIhFgJAA0AgDCAOTw0BIAsqAgAgDC0AALOTIRcgFiAXIBeUkiEWIAtBBGohCyAMQQFqIQwMAAsLIBYgBV1FDQAgBiAJQQJ0aiAINgIAIAcgCUECdGogFjgCACAJQQFqIQkLIAEgA2ohASAIQQFqIQgMAAsLIAkLqgMDB38HewJ9AkADQCAIIAJPDQECQCAAIQsgASEM/QwAAAAAAAAAAAAAAAAAAAAAIQ/9DAAAAAAAAAAAAAAAAAAAAAAhEP0MAAAAAAAAAAAAAAAAAAAAACER/QwAAAAAAAAAAAAAAAAAAAAAIRIgDCAEQXBxaiENIAwgBGohDgJAA0AgDCANTw0BIAz9AAQAIRQgFP2JASEVIA8gC/0ABAAgFf2pAf36Af3mAf3kASEPIBAgC/0ABBAgFf2qAf36Af3mAf3kASEQIBT9igEhFSARIAv9AAQgIBX9qQH9+gH95gH95AEhESASIAv9AAQwIBX9qgH9+gH95gH95AEhEiALQcAAaiELIAxBEGohDAwACwsgDyAQ/eQBIBEgEv3kAf3kASETIBP9HwAgE/0fAZIgE/0fAiAT/R8DkpIhFgJAA0AgDCAOTw0BIBYgCyoCACAMLQAAs5SSIRYgC0EEaiELIAxBAWohDAwACwsgFiAFXkUNACAGIAlBAnRqIAg2AgAgByAJQQJ0aiAWOAIAIAlBAWohCQsgASADaiEBIAhBAWohCAwACwsgCQuQAwQHfwR7An8BfQJAA0AgCCACTw0BAkD9DAAAAAAAAAAAAAAAAAAAAAAhEf0MAAAAAAAAAAAAAAAAAAAAACESIAAhCyABIQwgDCAEQXBxaiENIAwgBGohDiAMQcAAaiEKAkADQCAMIA1PDQEgDP0ABAAhDyAL/QAEACAP/YkB/ZEBIRAgESAQIBD9ugH9rgEhESAL/QAEECAP/YoB/ZEBIRAgEiAQIBD9ugH9rgEhEiALQSBqIQsgDEEQaiEMIAwgCk8EQCAKQcAAaiEKIBEgEv2uASEQIBD9GwAgEP0bAWogEP0bAiAQ/RsDamqyIAVgDQMLDAALCyARIBL9rgEhECAQ/RsAIBD9GwFqIBD9GwIgEP0bA2pqIRMCQANAIAwgDk8NASALLgEAIAwtAABrIRQgEyAUIBRsaiETIAtBAmohCyAMQQFqIQwMAAsLIBOyIRUgFSAFXUUNACAGIAlBAnRqIAg2AgAgByAJQQJ0aiAVOAIAIAlBAWohCQsgASADaiEBIAhBAWohCAwACwsgCQvBAgQHfwR7An8BfQJAA0AgCCACTw0BAkD9DAAAAAAAAAAAAAAAAAAAAAAhEf0MAAAAAAAAAAAAAAAAAAAAACESIAAhCyABIQwgDCAEQXBxaiENIAwgBGohDiAMQcAAaiEKAkADQCAMIA1PDQEgDP0ABAAhDyARIAv9AAQAIA/9iQH9ugH9rgEhESASIAv9AAQQIA/9igH9ugH9rgEhEiALQSBqIQsgDEEQaiEMDAALCyARIBL9rgEhECAQ/RsAIBD9GwFqIBD9GwIgEP0bA2pqIRMCQANAIAwgDk8NASATIAsuAQAgDC0AAGxqIRMgC0ECaiELIAxBAWohDAwACwsgE7IhFSAVIAVeRQ0AIAYgCUECdGogCDYCACAHIAlBAnRqIBU4AgAgCUEBaiEJCyABIANqIQEgCEEBaiEIDAALCyAJC5MEBAF9B38FewJ9AkADQCAJIAJPDQEgCiAFSQR9QwAAgH8FIAcgBUEBa0ECdGoqAgALIQgCQCAAIQwgASEN/QwAAAAAAAAAAAAAAAAAAAAAIRD9DAAAAAAAAAAAAAAAAAAAAAAhEf0MAAAAAAAAAAAAAAAAAAAAACES/QwAAAAAAAAAAAAAAAAAAAAAIRMgDSAEQXBxQQJ0aiEOIA0gBEECdGohDyANQYACaiELAkADQCANIA5PDQEgDP0ABAAgDf0ABAD95QEhFCAQIBQgFP3mAf3kASEQIAz9AAQQIA39AAQQ/eUBIRQgESAUIBT95gH95AEhESAM/QAEICAN/QAEIP3lASEUIBIgFCAU/eYB/eQBIRIgDP0ABDAgDf0ABDD95QEhFCATIBQgFP3mAf3kASETIAxBwABqIQwgDUHAAGohDSANIAtPBEAgC0GAAmohCyAQIBH95AEgEiAT/eQB/eQBIRQgFP0fACAU/R8BkiAU/R8CIBT9HwOSkiAIYA0DCwwACwsgECAR/eQBIBIgE/3kAf3kASEUIBT9HwAgFP0fAZIgFP0fAiAU/R8DkpIhFQJAA0AgDSAPTw0BIAwqAgAgDSoCAJMhFiAVIBYgFpSSIRUgDEEEaiEMIA1BBGohDQwACwsgFSAIXUUNACAFIAogBiAHIAkgFRALIQoLIAEgA2ohASAJQQFqIQkMAAsLIAoLnwMFAX0HfwR7An8BfQJAA0AgCSACTw0BIAogBUkEfUMAAIB/BSAHIAVBAWtBAnRqKgIACyEIAkD9DAAAAAAAAAAAAAAAAAAAAAAhEv0MAAAAAAAAAAAAAAAAAAAAACETIAAhDCABIQ0gDSAEQXBxaiEOIA0gBGohDyANQcAAaiELAkADQCANIA5PDQEgDf0ABAAhECAM/QAEACAQ/YkB/ZEBIREgEiARIBH9ugH9rgEhEiAM/QAEECAQ/YoB/ZEBIREgEyARIBH9ugH9rgEhEyAMQSBqIQwgDUEQaiENIA0gC08EQCALQcAAaiELIBIgE/2uASERIBH9GwAgEf0bAWogEf0bAiAR/RsDamqyIAhgDQMLDAALCyASIBP9rgEhESAR/RsAIBH9GwFqIBH9GwIgEf0bA2pqIRQCQANAIA0gD08NASAMLgEAIA0tAABrIRUgFCAVIBVsaiEUIAxBAmohDCANQQFqIQ0MAAsLIBSyIRYgFiAIXUUNACAFIAogBiAHIAkgFhALIQoLIAEgA2ohASAJQQFqIQkMAAsLIAoLhgEBAn8gASAAQQFrIAEgAEkbIQYCQANAIAZFDQEgBkEBa0ECdCEHIAMgB2oqAgAgBV5FDQEgAyAHaiADIAdqKgIAOAIEIAIgB2ogAiAHaigCADYCBCAGQQFrIQYMAAsLIAMgBkECdGogBTgCACACIAZBAnRqIAQ2AgAgAUEBaiABIAEgAEkbC+oCAwN/BXsCfSABIAJBcHFBAnRqIQQgASACQQJ0aiEFIAFBgAJqIQYCQANAIAEgBE8NASAA/QAEACAB/QAEAP3lASELIAcgCyAL/eYB/eQBIQcgAP0ABBAgAf0ABBD95QEhCyAIIAsgC/3mAf3kASEIIAD9AAQgIAH9AAQg/eUBIQsgCSALIAv95gH95AEhCSAA/QAEMCAB/QAEMP3lASELIAogCyAL/eYB/eQBIQogAEHAAGohACABQcAAaiEBIAEgBk8EQCAGQYACaiEGIAcgCP3kASAJIAr95AH95AEhCyAL/R8AIAv9HwGSIAv9HwIgC/0fA5KSIANgBEBDAACAfw8LCwwACwsgByAI/eQBIAkgCv3kAf3kASELIAv9HwAgC/0fAZIgC/0fAiAL/R8DkpIhDAJAA0AgASAFTw0BIAAqAgAgASoCAJMhDSAMIA0gDZSSIQwgAEEEaiEAIAFBBGohAQwACwsgDAt+AQJ/IAIhBQJAA0AgBUUNASAFQQFrQQF2IQYgACAGQQJ0aioCACADXw0BIAAgBUECdGogACAGQQJ0aioCADgCACABIAVBAnRqIAEgBkECdGooAgA2AgAgBiEFDAALCyAAIAVBAnRqIAM4AgAgASAFQQJ0aiAENgIAIAJBAWoL0wEDA38BfQF/IAJBAWshAyADQQBMBEBBAA8LIAAgA0ECdGoqAgAhBiABIANBAnRqKAIAIQcCQANAIARBAXRBAWohBSAFIANPDQEgBUEBaiADSSAAIAVBAnRqKgIEIAAgBUECdGoqAgBdcQRAIAVBAWohBQsgACAFQQJ0aioCACAGYA0BIAAgBEECdGogACAFQQJ0aioCADgCACABIARBAnRqIAEgBUECdGooAgA2AgAgBSEEDAALCyAAIARBAnRqIAY4AgAgASAEQQJ0aiAHNgIAIAMLfgECfyACIQUCQANAIAVFDQEgBUEBa0EBdiEGIAAgBkECdGoqAgAgA2ANASAAIAVBAnRqIAAgBkECdGoqAgA4AgAgASAFQQJ0aiABIAZBAnRqKAIANgIAIAYhBQwACwsgACAFQQJ0aiADOAIAIAEgBUECdGogBDYCACACQQFqC9MBAwN/AX0BfyACQQFrIQMgA0EATARAQQAPCyAAIANBAnRqKgIAIQYgASADQQJ0aigCACEHAkADQCAEQQF0QQFqIQUgBSADTw0BIAVBAWogA0kgACAFQQJ0aioCBCAAIAVBAnRqKgIAXnEEQCAFQQFqIQULIAAgBUECdGoqAgAgBl8NASAAIARBAnRqIAAgBUECdGoqAgA4AgAgASAEQQJ0aiABIAVBAnRqKAIANgIAIAUhBAwACwsgACAEQQJ0aiAGOAIAIAEgBEECdGogBzYCACADC+gCAwd/AX0CfyACQQJ0IRggBiAIQQJ0aiAHNgIAIAsgDEEAIAkgCBANIQ8gDSAOQQAgCSAIEA8hEAJAA0AgD0UNASAQIApPIAsqAgAgDSoCAF5xDQEgDCgCACERIAsgDCAPEA4hDyAEIBFqLQAAIRMgAyARIAVsQQJ0aiEVQQAhEgJAA0AgEiATTw0BIBUgEkECdGooAgAhFCASQQFqIRIgBiAUQQJ0aigCACAHRg0AIAYgFEECdGogBzYCACAAIAEgFCAYbGogAiANKgIAQwAAgH8gECAKTxsQDCEWIBAgCkkgFiANKgIAXXIEQCALIAwgDyAWIBQQDSEPIA0gDiAQIBYgFBAPIRAgECAKSwRAIA0gDiAQEBAhEAsLDAALCwwACwsgECEXAkADQCAQRQ0BIA0qAgAhFiAOKAIAIRQgDSAOIBAQECEQIA0gEEECdGogFjgCACAOIBBBAnRqIBQ2AgAMAAsLIBcLqwEBBn8gAkECdCEKIAAhBgJAA0AgBSABTw0BIAQgAyAFQQJ0aigCACAKbGohByAGIAJBfHFBAnRqIQggBiAKaiEJAkADQCAGIAhPDQEgByAH/QAEACAG/QAEAP3kAf0LBAAgBkEQaiEGIAdBEGohBwwACwsCQANAIAYgCU8NASAHIAcqAgAgBioCAJI4AgAgBkEEaiEGIAdBBGohBwwACwsgBUEBaiEFDAALCws=';

/** The slice of the WebAssembly JS API used here (the project's lib settings do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface Kernels {
  mem: WasmMemory;
  l2_rows(q: number, base: number, count: number, stride: number, dim: number, out: number): void;
  dot_rows(q: number, base: number, count: number, stride: number, dim: number, out: number): void;
  /** Rows with squared L2 < thr as (index, distance) pairs; returns the count (early abandon). */
  l2_rows_lt(q: number, base: number, count: number, stride: number, dim: number, thr: number, outIdx: number, outD: number): number;
  /** Rows with q . row > thr as (index, dot) pairs; returns the count. */
  dot_rows_gt(q: number, base: number, count: number, stride: number, dim: number, thr: number, outIdx: number, outD: number): number;
  /** l2_rows_lt / dot_rows_gt over rows of dim unsigned bytes (the query stays f32). */
  l2_rows_u8_lt(q: number, base: number, count: number, stride: number, dim: number, thr: number, outIdx: number, outD: number): number;
  dot_rows_u8_gt(q: number, base: number, count: number, stride: number, dim: number, thr: number, outIdx: number, outD: number): number;
  /** The u8 scans for a query of 0..255 integers given as i16 at q (exact integer arithmetic). */
  l2_rows_u8i_lt(q: number, base: number, count: number, stride: number, dim: number, thr: number, outIdx: number, outD: number): number;
  dot_rows_u8i_gt(q: number, base: number, count: number, stride: number, dim: number, thr: number, outIdx: number, outD: number): number;
  /** The k nearest rows (ascending (row, distance) at outIdx / outD); returns how many. */
  topk_l2(q: number, base: number, count: number, stride: number, dim: number, k: number, outIdx: number, outD: number): number;
  /** topk_l2 over u8 rows for an i16 query of 0..255 integers. */
  topk_l2_u8i(q: number, base: number, count: number, stride: number, dim: number, k: number, outIdx: number, outD: number): number;
  /** HNSW layer-0 search (see simd-kernels.wat); results ascending at rd / rn, returns their count. */
  hnsw_l0(
    q: number,
    vecs: number,
    dim: number,
    links: number,
    deg: number,
    m0: number,
    vis: number,
    gen: number,
    ep: number,
    epD: number,
    ef: number,
    cd: number,
    cn: number,
    rd: number,
    rn: number,
  ): number;
  l2_ids(q: number, vecs: number, ids: number, n: number, dim: number, out: number): void;
  add_rows(rows: number, count: number, dim: number, assign: number, sums: number): void;
}

let compiled: object | null = null;

const PAGE = 65536;

export class SimdMemory {
  readonly k: Kernels;
  private readonly mem: WasmMemory;
  /** Free blocks as parallel sorted arrays of [start, size) byte ranges. */
  private freeStart: number[] = [];
  private freeSize: number[] = [];
  private readonly sizes = new Map<number, number>();
  private top = 16; // byte 0..15 reserved so that pointer 0 never means "allocated"

  constructor() {
    compiled ??= new Wasm.Module(Buffer.from(KERNELS_WASM, 'base64'));
    this.k = new Wasm.Instance(compiled, {}).exports as unknown as Kernels;
    this.mem = this.k.mem;
  }

  get buffer(): ArrayBuffer {
    return this.mem.buffer;
  }

  /** Whole-memory views (indices are byte offsets / 4). */
  f32(): Float32Array {
    return new Float32Array(this.mem.buffer);
  }

  u32(): Uint32Array {
    return new Uint32Array(this.mem.buffer);
  }

  bytes(ptr: number, len: number): Uint8Array {
    return new Uint8Array(this.mem.buffer, ptr, len);
  }

  alloc(bytes: number): number {
    const size = Math.max(16, (bytes + 15) & ~15);
    for (let i = 0; i < this.freeStart.length; i++) {
      if (this.freeSize[i] < size) continue;
      const ptr = this.freeStart[i];
      if (this.freeSize[i] === size) {
        this.freeStart.splice(i, 1);
        this.freeSize.splice(i, 1);
      } else {
        this.freeStart[i] += size;
        this.freeSize[i] -= size;
      }
      this.sizes.set(ptr, size);
      return ptr;
    }
    const ptr = this.top;
    const end = ptr + size;
    const have = this.mem.buffer.byteLength;
    if (end > have) this.mem.grow(Math.ceil((end - have) / PAGE));
    this.top = end;
    this.sizes.set(ptr, size);
    return ptr;
  }

  /**
   * Resizes a block, keeping its first min(old, new) bytes. A block at the top of memory grows in
   * place; any other moves to the top, so a block that keeps growing (the centroid vectors)
   * settles there and stops leaving copies of itself behind.
   */
  realloc(ptr: number, bytes: number): number {
    const old = this.sizes.get(ptr);
    if (old === undefined) throw new Error('SimdMemory: realloc of an unknown block');
    const size = Math.max(16, (bytes + 15) & ~15);
    if (ptr + old === this.top) {
      const have = this.mem.buffer.byteLength;
      if (ptr + size > have) this.mem.grow(Math.ceil((ptr + size - have) / PAGE));
      this.top = ptr + size;
      this.sizes.set(ptr, size);
      return ptr;
    }
    const np = this.top;
    const have = this.mem.buffer.byteLength;
    if (np + size > have) this.mem.grow(Math.ceil((np + size - have) / PAGE));
    this.top = np + size;
    this.sizes.set(np, size);
    new Uint8Array(this.mem.buffer).copyWithin(np, ptr, ptr + Math.min(old, size));
    this.free(ptr);
    return np;
  }

  free(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) return;
    this.sizes.delete(ptr);
    if (ptr + size === this.top) {
      this.top = ptr;
      // The block below may now touch the top too.
      const last = this.freeStart.length - 1;
      if (last >= 0 && this.freeStart[last] + this.freeSize[last] === this.top) {
        this.top = this.freeStart[last];
        this.freeStart.pop();
        this.freeSize.pop();
      }
      return;
    }
    let i = 0;
    while (i < this.freeStart.length && this.freeStart[i] < ptr) i++;
    this.freeStart.splice(i, 0, ptr);
    this.freeSize.splice(i, 0, size);
    // Coalesce with the next, then with the previous block.
    if (i + 1 < this.freeStart.length && ptr + this.freeSize[i] === this.freeStart[i + 1]) {
      this.freeSize[i] += this.freeSize[i + 1];
      this.freeStart.splice(i + 1, 1);
      this.freeSize.splice(i + 1, 1);
    }
    if (i > 0 && this.freeStart[i - 1] + this.freeSize[i - 1] === this.freeStart[i]) {
      this.freeSize[i - 1] += this.freeSize[i];
      this.freeStart.splice(i, 1);
      this.freeSize.splice(i, 1);
    }
  }

  /** Resident bytes: the whole linear memory (including free space: it is never returned). */
  byteLength(): number {
    return this.mem.buffer.byteLength;
  }
}
