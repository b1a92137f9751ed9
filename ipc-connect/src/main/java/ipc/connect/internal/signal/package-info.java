/**
 * Signal layer: wait and wake on a 32-bit word in shared memory, across processes.
 *
 * <p>A waiter spins briefly, yields, then announces itself and sleeps in the kernel (Linux {@code futex}); a writer
 * enters the kernel only when a waiter is announced, and no thread of the waiter's process polls in its stead. At
 * most half the cores' worth of threads of a process spin at once, none on one core
 * ({@link ipc.connect.internal.signal.Spinners}). Where no futex is available the waiter backs off with
 * {@code parkNanos} instead (the portable fallback), so the protocol above this layer is the same everywhere.
 *
 * <p>A busy thread (spinning, or working without a break) gives its core away once its turn is over, while more
 * threads of its process want to spin than may ({@link ipc.connect.internal.signal.CoreTurn}); a polling virtual
 * thread yields its core, never its carrier.
 *
 * <p>Only platform threads should sleep here: a virtual thread blocked in a native call pins its carrier. The
 * layers above keep their pollers on platform threads and let virtual threads wait in-process.
 */
package ipc.connect.internal.signal;
