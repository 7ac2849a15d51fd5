/** Types for cluster-key-slot (ioredis's own slot function: CRC16 of the key or its `{hash tag}`, mod 16384). */
declare module 'cluster-key-slot' {
  /** The Redis Cluster slot (0..16383) of a key or channel name. */
  export default function calculateSlot(key: string | Buffer): number;
}
