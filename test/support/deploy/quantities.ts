/** Kubernetes resource quantities as numbers: CPU in cores, memory in MiB. */

const MEMORY_UNITS: Record<string, number> = {
  '': 1 / 2 ** 20,
  Ki: 1 / 1024,
  Mi: 1,
  Gi: 1024,
  k: 1e3 / 2 ** 20,
  M: 1e6 / 2 ** 20,
  G: 1e9 / 2 ** 20,
};

export function cpuCores(quantity: string | number): number {
  const text = String(quantity);
  return text.endsWith('m') ? Number(text.slice(0, -1)) / 1000 : Number(text);
}

export function memoryMiB(quantity: string | number): number {
  const match = /^(\d+(?:\.\d+)?)([KMG]i|[kMG])?$/.exec(String(quantity));
  if (!match) throw new Error(`${quantity}: not a memory quantity`);
  const unit = MEMORY_UNITS[match[2] ?? ''];
  if (unit === undefined) throw new Error(`${quantity}: unknown memory unit`);
  return Number(match[1]) * unit;
}
