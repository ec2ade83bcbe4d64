/** Placeholder until the slates app exists: replaced by the in-process POST /v1/slates measurement. */
export async function measureLatency(_iterations: number): Promise<unknown> {
  return { skipped: 'not implemented yet' };
}
