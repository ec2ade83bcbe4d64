import type * as Addon from '@recsys/sdim-native';

/** The SIMD kernels addon (native/sdim): batched signatures and the interest gather, bit for bit the TypeScript arithmetic. */
export type SdimNativeKernels = typeof Addon;

export type SdimKernelEngine = 'auto' | 'native' | 'js';

let engine: SdimKernelEngine = process.env.SDIM_KERNELS === 'js' ? 'js' : process.env.SDIM_KERNELS === 'native' ? 'native' : 'auto';
let addon: SdimNativeKernels | null | undefined;
let loadError = '';

function load(): SdimNativeKernels | null {
  if (addon === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional: without the addon the TypeScript kernels run
      addon = require('@recsys/sdim-native') as SdimNativeKernels;
    } catch (e) {
      addon = null;
      loadError = (e as Error).message;
    }
  }
  return addon;
}

/**
 * The addon when it is built and not switched off, else null (the callers then run the TypeScript
 * kernels, which give the same results). Engine 'native' (SDIM_KERNELS=native) throws when the
 * addon is missing; 'js' (SDIM_KERNELS=js) never loads it.
 */
export function sdimNative(): SdimNativeKernels | null {
  if (engine === 'js') return null;
  const a = load();
  if (!a && engine === 'native') throw new Error(`@recsys/sdim-native is required (SDIM_KERNELS=native) but did not load: ${loadError}`);
  return a;
}

/** Switches the kernels of this process (benchmarks, specs); returns the previous setting. */
export function setSdimKernels(next: SdimKernelEngine): SdimKernelEngine {
  const prev = engine;
  engine = next;
  sdimNative();
  return prev;
}

/** Which kernels run: 'native' with the addon's build facts, or 'js' with the reason. */
export function sdimKernelInfo(): { engine: 'native' | 'js'; simd?: string; march?: string; reason?: string } {
  const a = engine === 'js' ? null : load();
  if (a) return { engine: 'native', simd: a.buildInfo.simd, march: a.buildInfo.march };
  return { engine: 'js', reason: engine === 'js' ? 'switched off (SDIM_KERNELS=js or setSdimKernels)' : `addon not loaded: ${loadError}` };
}
