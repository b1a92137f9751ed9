/**
 * Memory layer: files in a shared directory mapped as {@link java.lang.foreign.MemorySegment}s, and the
 * ordered accessors every upper layer uses on them.
 *
 * <h2>Memory-ordering vocabulary</h2>
 * Accessors in {@link ipc.connect.internal.memory.SharedAccess} are named by the ordering they give, as in
 * JCTools:
 * <ul>
 *   <li><b>plain</b> ({@code MemorySegment.get/set}): no ordering; only for memory the current thread owns, or for
 *       bytes made visible by a later release and read after an earlier acquire;</li>
 *   <li><b>acquire</b> ({@code getXAcquire}): no later load or store moves before it; the read side of a
 *       publication;</li>
 *   <li><b>release</b> ({@code setXRelease}): no earlier load or store moves after it; the write side of a
 *       publication (a ring's tail, a header's layout version);</li>
 *   <li><b>volatile</b> ({@code getXVolatile/setXVolatile}): sequentially consistent; used where a store must be
 *       ordered before a later load (the Dekker pattern of the signal layer);</li>
 *   <li><b>CAS / atomic add</b>: read-modify-write, volatile semantics.</li>
 * </ul>
 * Every word that another process writes is read with acquire or volatile semantics, never plain.
 */
package ipc.connect.internal.memory;
