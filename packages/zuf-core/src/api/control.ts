/**
 * Control requests from the server to the app side (the ZU_IOC_* of zus_api.h): a ZT joining the
 * grid, breaking every wait, allocating a shared buffer, the NUMA map, and the operation wait.
 */
import { IocHdrLayout } from './hdr.js';
import { defineStruct, field } from './layout.js';

/** A ZT joins the grid: its channel, and the size of its operation buffer. */
export const IocInitLayout = defineStruct('zufs_ioc_init', [
  /*  0 */ field.struct('hdr', IocHdrLayout),
  /* 24 */ field.u32('channel_no'),
  /* 28 */ field.u32('max_command'), //  bytes of the operation buffer
]); /* 32 */
export const IocInit = IocInitLayout.off;

/** The server tells the app side to end every wait (it is going away). */
export const IocBreakAllLayout = defineStruct('zufs_ioc_break_all', [
  /*  0 */ field.struct('hdr', IocHdrLayout),
]); /* 24 */
export const IocBreakAll = IocBreakAllLayout.off;

/** A buffer shared by both sides, optionally made one of a mount's pools 1-6. */
export const IocAllocBufferLayout = defineStruct('zufs_ioc_alloc_buffer', [
  /*  0 */ field.struct('hdr', IocHdrLayout),
  /* 24 */ field.u64('sb_id'),
  /* 32 */ field.cookie('zus_sbi'),
  /* 40 */ field.u32('max_size'), //   most bytes the buffer may grow to
  /* 44 */ field.u32('init_size'), //  bytes allocated now
  /* 48 */ field.u16('pool_no'), //    1..6, or 0: private to this buffer
  /* 50 */ field.u16('flags'),
  /* 52 */ field.u32('reserved'),
]); /* 56 */
export const IocAllocBuffer = IocAllocBufferLayout.off;

/** A set of CPUs as a bitmap of 1024 bits. */
export const ZufsCpuSetLayout = defineStruct('zufs_cpu_set', [
  /* 0 */ field.array('bits', 'u64', 16),
]); /* 128 */
export const ZufsCpuSet = ZufsCpuSetLayout.off;

/** The machine's NUMA map; cpu_set_per_node[possible_nodes] follows. */
export const IocNumaMapLayout = defineStruct('zufs_ioc_numa_map', [
  /*  0 */ field.struct('hdr', IocHdrLayout),
  /* 24 */ field.u32('possible_nodes'),
  /* 28 */ field.u32('possible_cpus'),
  /* 32 */ field.u32('online_nodes'),
  /* 36 */ field.u32('online_cpus'),
  /* 40 */ field.u32('max_cpu_per_node'),
  /* 44 */ field.u8('nodes_not_symmetrical'), // bool: some node has fewer CPUs than max_cpu_per_node
  /* 45 */ field.bytes('__pad', 19), //           cpu_set_per_node starts on a cache line
  /* 64 */ field.mark('cpu_set_per_node', 8),
]); /* 64 */
export const IocNumaMap = IocNumaMapLayout.off;

/** What a ZT waits on: the header, then the operation (at most max_command bytes in all). */
export const IocWaitOperationLayout = defineStruct('zufs_ioc_wait_operation', [
  /*  0 */ field.struct('hdr', IocHdrLayout),
  /* 24 */ field.mark('opt_buff'),
]); /* 24 */
export const IocWaitOperation = IocWaitOperationLayout.off;
